#pragma once
// A PCRE2 pattern compiled once (UTF + UCP, JIT when available) and matched on valid UTF-8 with
// per-thread match data, so the hot path allocates nothing. Matching runs under explicit match,
// depth, heap and JIT stack limits, so that a pattern that backtracks without end (a hostile file's)
// fails with an error naming the pattern and the limit.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace ortlm::tok {

class Regex {
 public:
  // Throws ortlm::Error quoting the pattern and PCRE2's message, prefixed with `where`.
  Regex(std::string_view pattern, std::string_view where);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Finds the first non-empty match at or after `start`; false when there is none. Throws
  // ortlm::Error when a limit is hit.
  bool find(std::string_view subject, size_t start, size_t& match_begin, size_t& match_end) const;

  // Calls fn(begin, end) for each non-overlapping, non-empty match, left to right.
  template <class F>
  void for_each_match(std::string_view subject, F&& fn) const {
    size_t pos = 0, b = 0, e = 0;
    while (pos < subject.size() && find(subject, pos, b, e)) {
      fn(b, e);
      pos = e;
    }
  }

 private:
  [[noreturn]] void match_failed(int code, std::string_view subject) const;
  void* code_ = nullptr;  // pcre2_code_8
  bool jit_ = false;
  std::string origin_;  // "tokenizer.json: pre_tokenizer.pattern: regex \"...\""
};

}  // namespace ortlm::tok
