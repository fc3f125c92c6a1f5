#pragma once
// Standard output that reports write errors (a full disk, a closed pipe) instead of ignoring them:
// every command writes through these, and main() checks the final flush.
#include <string_view>

namespace ortlm::cli {

// Writes `text` to stdout; throws ortlm::Error naming the system error when the write fails.
void write_out(std::string_view text);
// Flushes stdout (streamed text shows at once); throws on a write error.
void flush_out();

}  // namespace ortlm::cli
