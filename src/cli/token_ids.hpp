#pragma once
// Token ids as users type them on the command line: "1,2,3" or "1 2 3".
#include <cstdint>
#include <string>
#include <vector>

namespace ortlm::cli {

// Ids separated by commas and/or whitespace; throws ortlm::Error naming `what`, the character and
// the bad item ("1,,2", "1,", "-1", "x" and values past INT32_MAX are refused).
std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& what);

// "1 2 3".
std::string join_token_ids(const std::vector<int32_t>& ids);

}  // namespace ortlm::cli
