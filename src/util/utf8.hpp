#pragma once
// UTF-8 helpers shared by the tokenizer and the CLI: decoding, encoding, validation, lossy repair.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ortlm::utf8 {

// Length of the UTF-8 sequence introduced by lead byte `b` (1 for a stray continuation byte).
inline size_t sequence_length(unsigned char b) {
  if (b < 0x80) return 1;
  if ((b & 0xE0) == 0xC0) return 2;
  if ((b & 0xF0) == 0xE0) return 3;
  if ((b & 0xF8) == 0xF0) return 4;
  return 1;
}

// Decodes the character at `pos` of valid UTF-8 `s` and advances `pos` past it.
char32_t decode(std::string_view s, size_t& pos);
// Appends the UTF-8 encoding of `cp`.
void append(std::string& out, char32_t cp);
inline std::string encode(char32_t cp) {
  std::string s;
  append(s, cp);
  return s;
}

// Length of the well-formed UTF-8 sequence at `pos`, or 0 when the bytes there are not one.
size_t valid_sequence_length(std::string_view s, size_t pos);
// Offset of the first byte that is not part of well-formed UTF-8, or npos when `s` is valid.
size_t find_invalid(std::string_view s);
inline bool is_valid(std::string_view s) { return find_invalid(s) == std::string_view::npos; }
// Length of the longest prefix of `s` that does not end inside a character (for streaming).
size_t complete_prefix_length(std::string_view s);
// Replaces each maximal ill-formed subsequence with U+FFFD, as Rust's String::from_utf8_lossy.
std::string repair(std::string_view s);
size_t count_chars(std::string_view s);
// The Unicode White_Space property (Rust's char::is_whitespace, which Hugging Face tokenizers use).
bool is_white_space(char32_t cp);

constexpr std::string_view kReplacementChar = "\xEF\xBF\xBD";

}  // namespace ortlm::utf8
