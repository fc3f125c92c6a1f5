#pragma once
// The numbers on the bench executables' command lines: an integer >= least (at most 2^20), or a
// comma-separated list of them. Anything else goes to the executable's `usage` (which exits), with a
// message naming the option.
#include <cstdlib>
#include <string>
#include <vector>

namespace ortlm::bench {

using Usage = void (*)(const char* why);

inline int integer_arg(const std::string& text, const char* what, int least, Usage usage) {
  char* end = nullptr;
  const long v = std::strtol(text.c_str(), &end, 10);
  if (*end || end == text.c_str() || v < least || v > 1 << 20) {
    usage((std::string(what) + " must be an integer >= " + std::to_string(least)).c_str());
    std::exit(2);  // usage does not return
  }
  return static_cast<int>(v);
}

inline std::vector<int> integer_list_arg(const std::string& text, const char* what, int least, Usage usage) {
  std::vector<int> values;
  for (size_t from = 0;;) {
    const size_t comma = text.find(',', from);
    values.push_back(integer_arg(text.substr(from, comma - from), what, least, usage));
    if (comma == std::string::npos) return values;
    from = comma + 1;
  }
}

}  // namespace ortlm::bench
