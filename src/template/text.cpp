#include "template/text.hpp"

#include <utf8proc.h>

#include <cmath>

#include "template/memory.hpp"
#include "template/value.hpp"

namespace ortlm::tpl::text {

std::vector<std::string> code_points(std::string_view s) {
  // One std::string per character: a long text takes many times its size here.
  check_headroom(utf8::count_chars(s) * sizeof(std::string));
  std::vector<std::string> out;
  for (size_t pos = 0; pos < s.size();) {
    size_t start = pos;
    utf8::decode(s, pos);
    out.emplace_back(s.substr(start, pos - start));
  }
  return out;
}

size_t js_length(std::string_view s) {
  size_t n = 0;
  for (size_t pos = 0; pos < s.size();) n += utf8::decode(s, pos) >= 0x10000 ? 2 : 1;
  return n;
}

bool is_js_space(char32_t cp) {
  // JavaScript's \s and String.prototype.trim: Unicode White_Space minus U+0085, plus the BOM.
  return cp == 0xFEFF || (cp != 0x85 && utf8::is_white_space(cp));
}

size_t leading_space(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = pos;
    if (!is_js_space(utf8::decode(s, next))) break;
    pos = next;
  }
  return pos;
}

size_t trailing_space(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80 && end - start < 4) --start;
    size_t pos = start;
    char32_t cp = utf8::decode(s, pos);
    if (pos != end || !is_js_space(cp)) break;
    end = start;
  }
  return s.size() - end;
}

std::string trim_start(std::string_view s) { return std::string(s.substr(leading_space(s))); }
std::string trim_end(std::string_view s) { return std::string(s.substr(0, s.size() - trailing_space(s))); }
std::string trim(std::string_view s) { return trim_end(trim_start(s)); }

static std::string map_case(std::string_view s, bool upper) {
  std::string out;
  out.reserve(s.size());
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp = utf8::decode(s, pos);
    if (cp < 0x80) {
      char c = char(cp);
      if (upper && c >= 'a' && c <= 'z') c = char(c - 32);
      if (!upper && c >= 'A' && c <= 'Z') c = char(c + 32);
      out += c;
      continue;
    }
    auto mapped = upper ? utf8proc_toupper(utf8proc_int32_t(cp)) : utf8proc_tolower(utf8proc_int32_t(cp));
    utf8::append(out, char32_t(mapped));
  }
  return out;
}

std::string to_upper(std::string_view s) { return map_case(s, true); }
std::string to_lower(std::string_view s) { return map_case(s, false); }

bool is_word_byte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

std::pair<size_t, size_t> line_column(std::string_view source, size_t offset) {
  size_t line = 1, column = 1;
  for (size_t pos = 0; pos < offset && pos < source.size();) {
    char32_t cp = utf8::decode(source, pos);
    if (cp == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

}  // namespace ortlm::tpl::text

namespace ortlm::tpl::text {

std::string title_case(std::string_view s) {
  std::string out(s);
  for (size_t k = 0; k < out.size(); ++k) {
    bool boundary = k == 0 || !is_word_byte(out[k - 1]);
    if (boundary && out[k] >= 'a' && out[k] <= 'z') out[k] = char(out[k] - 32);
  }
  return out;
}

std::string capitalize(std::string_view s) {
  if (s.empty()) return {};
  size_t pos = 0;
  utf8::decode(s, pos);
  return to_upper(s.substr(0, pos)) + std::string(s.substr(pos));
}

// JavaScript's parseInt(s, 10) / parseFloat(s): the longest numeric prefix after whitespace.
std::optional<int64_t> parse_int_prefix(const std::string& s) {
  std::string t = text::trim_start(s);
  size_t k = 0;
  bool negative = false;
  if (k < t.size() && (t[k] == '+' || t[k] == '-')) negative = t[k++] == '-';
  size_t digits_start = k;
  int64_t value = 0;
  while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) {
    if (__builtin_mul_overflow(value, 10, &value) || __builtin_add_overflow(value, t[k] - '0', &value))
      fail("integer overflow");
    ++k;
  }
  if (k == digits_start) return std::nullopt;
  return negative ? -value : value;
}

std::optional<double> parse_float_prefix(const std::string& s) {
  std::string t = text::trim_start(s);
  size_t k = 0;
  if (k < t.size() && (t[k] == '+' || t[k] == '-')) ++k;
  if (t.compare(k, 8, "Infinity") == 0) return t[0] == '-' ? -INFINITY : INFINITY;
  size_t mantissa = k;
  while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
  if (k < t.size() && t[k] == '.') {
    ++k;
    while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
  }
  if (k == mantissa || (k == mantissa + 1 && t[mantissa] == '.')) return std::nullopt;
  if (k < t.size() && (t[k] == 'e' || t[k] == 'E')) {
    size_t e = k + 1;
    if (e < t.size() && (t[e] == '+' || t[e] == '-')) ++e;
    if (e < t.size() && std::isdigit(static_cast<unsigned char>(t[e]))) {
      k = e;
      while (k < t.size() && std::isdigit(static_cast<unsigned char>(t[k]))) ++k;
    }
  }
  return std::strtod(t.substr(0, k).c_str(), nullptr);
}

}  // namespace ortlm::tpl::text
