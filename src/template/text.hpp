#pragma once
// UTF-8 helpers that reproduce JavaScript string semantics (the reference engine runs on UTF-16
// JavaScript strings): its whitespace set, trim, length in UTF-16 units, case mapping.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/utf8.hpp"

namespace ortlm::tpl::text {

// The code points of `s`, each as its own UTF-8 string (JavaScript's Array.from(string)).
std::vector<std::string> code_points(std::string_view s);
// Length in UTF-16 code units (JavaScript's string.length).
size_t js_length(std::string_view s);
// JavaScript's /\s/: Unicode White_Space plus U+FEFF.
bool is_js_space(char32_t cp);
// Bytes of JavaScript whitespace at the start of `s` / at the end of `s`.
size_t leading_space(std::string_view s);
size_t trailing_space(std::string_view s);
std::string trim(std::string_view s);
std::string trim_start(std::string_view s);
std::string trim_end(std::string_view s);
std::string to_upper(std::string_view s);
std::string to_lower(std::string_view s);
// ASCII [A-Za-z0-9_]: JavaScript's \w.
bool is_word_byte(char c);
// JavaScript's parseInt(s, 10) / parseFloat(s): the longest numeric prefix after whitespace.
std::optional<int64_t> parse_int_prefix(const std::string& s);
std::optional<double> parse_float_prefix(const std::string& s);
// 1-based line and column (in code points) of a byte offset.
std::pair<size_t, size_t> line_column(std::string_view source, size_t offset);

}  // namespace ortlm::tpl::text

namespace ortlm::tpl::text {
// JavaScript-regex-based transforms of the reference: /\b\w/g upper-cased (rest untouched).
std::string title_case(std::string_view s);
// First code point upper-cased, rest untouched.
std::string capitalize(std::string_view s);
}  // namespace ortlm::tpl::text
