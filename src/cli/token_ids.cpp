#include "cli/token_ids.hpp"

#include <cstdint>

#include "ortlm/error.hpp"

namespace ortlm::cli {

std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& what) {
  static constexpr const char* kSeparators = " \t\r\n,";
  std::vector<int32_t> ids;
  for (size_t pos = text.find_first_not_of(kSeparators); pos != std::string::npos;
       pos = text.find_first_not_of(kSeparators, pos)) {
    const size_t end = text.find_first_of(kSeparators, pos);
    const std::string item = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    size_t used = 0;
    long long value = -1;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != item.size() || value < 0 || value > INT32_MAX)
      throw Error(what + ": '" + item + "' is not a token id");
    ids.push_back(static_cast<int32_t>(value));
    pos = end;
  }
  return ids;
}

std::string join_token_ids(const std::vector<int32_t>& ids) {
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line.append(i ? " " : "").append(std::to_string(ids[i]));
  return line;
}

}  // namespace ortlm::cli
