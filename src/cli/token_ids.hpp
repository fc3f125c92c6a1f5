#pragma once
// Token ids as users type them on the command line: "1,2,3" or "1 2 3".
#include <cstdint>
#include <string>
#include <vector>

namespace ortlm::cli {

// Splits on commas and whitespace; throws ortlm::Error naming `what` and the bad item.
std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& what);

// "1 2 3".
std::string join_token_ids(const std::vector<int32_t>& ids);

}  // namespace ortlm::cli
