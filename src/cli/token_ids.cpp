#include "cli/token_ids.hpp"

#include <cctype>
#include <cstdint>

#include "ortlm/error.hpp"

namespace ortlm::cli {

namespace {

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::vector<int32_t> parse_token_ids(const std::string& text, const std::string& what) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  auto skip_spaces = [&] {
    while (pos < text.size() && is_space(text[pos])) ++pos;
  };
  auto fail = [&](const std::string& why) -> void {
    throw Error(what + ": " + why + " at character " + std::to_string(pos + 1) +
                " (ids are integers in [0, 2147483647] separated by commas or spaces)");
  };
  skip_spaces();
  bool need_id = false;  // after a comma, an id must follow: "1,,2" and "1," are mistakes
  while (pos < text.size()) {
    const size_t start = pos;
    int64_t value = 0;
    while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
      value = value * 10 + (text[pos] - '0');
      if (value > INT32_MAX) fail("'" + text.substr(start, pos - start + 1) + "...' is too large");
      ++pos;
    }
    if (pos == start && text[pos] == ',') fail("an id is missing");
    if (pos == start || (pos < text.size() && !is_space(text[pos]) && text[pos] != ',')) {
      size_t end = start;
      while (end < text.size() && !is_space(text[end]) && text[end] != ',') ++end;
      pos = start;
      fail("'" + text.substr(start, end - start) + "' is not a token id");
    }
    ids.push_back(static_cast<int32_t>(value));
    skip_spaces();
    need_id = pos < text.size() && text[pos] == ',';
    if (need_id) {
      ++pos;
      skip_spaces();
    }
  }
  if (need_id) fail("an id is missing after the last comma");
  return ids;
}

std::string join_token_ids(const std::vector<int32_t>& ids) {
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line.append(i ? " " : "").append(std::to_string(ids[i]));
  return line;
}

}  // namespace ortlm::cli
