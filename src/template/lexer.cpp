#include "template/lexer.hpp"

#include <array>
#include <utility>

#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

// Preprocessed text plus, for each byte, its offset in the original source (for error positions).
struct Mapped {
  std::string text;
  std::vector<size_t> origin;

  void push(char c, size_t from) {
    text += c;
    origin.push_back(from);
  }
};

bool is_line_start(const std::string& s, size_t pos) {
  if (pos == 0) return true;
  char prev = s[pos - 1];
  if (prev == '\n' || prev == '\r') return true;
  // U+2028 / U+2029 also end lines for JavaScript's multiline ^.
  return pos >= 3 && s.compare(pos - 3, 2, "\xE2\x80") == 0 && (s[pos - 1] == '\xA8' || s[pos - 1] == '\xA9');
}

// lstrip_blocks: spaces and tabs that start a line before "{%", "{#" or "{-" are dropped.
Mapped lstrip_blocks(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  for (size_t pos = 0; pos < s.size();) {
    if (is_line_start(s, pos)) {
      size_t end = pos;
      while (end < s.size() && (s[end] == ' ' || s[end] == '\t')) ++end;
      if (end + 1 < s.size() && s[end] == '{' &&
          (s[end + 1] == '#' || s[end + 1] == '%' || s[end + 1] == '-')) {
        pos = end;
      }
    }
    // Copy through the next line start.
    do {
      out.push(s[pos], in.origin[pos]);
      ++pos;
    } while (pos < s.size() && !is_line_start(s, pos));
  }
  return out;
}

// trim_blocks: the newline right after "#}", "%}" or "-}" is dropped.
Mapped trim_blocks(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  for (size_t pos = 0; pos < s.size(); ++pos) {
    out.push(s[pos], in.origin[pos]);
    if (pos + 2 < s.size() && (s[pos] == '#' || s[pos] == '%' || s[pos] == '-') && s[pos + 1] == '}' &&
        s[pos + 2] == '\n') {
      out.push('}', in.origin[pos + 1]);
      pos += 2;
    }
  }
  return out;
}

size_t ascii_space_run(const std::string& s, size_t pos) {
  size_t end = pos;
  while (end < s.size() && text::is_js_space(static_cast<unsigned char>(s[end]))) ++end;
  return end;
}

// transformers' `{% generation %}` / `{% endgeneration %}` tags are removed, honouring "-".
Mapped strip_generation_tags(const Mapped& in) {
  Mapped out;
  const std::string& s = in.text;
  size_t copied = 0;  // everything before this was handled
  for (size_t pos = s.find("{%"); pos != std::string::npos; pos = s.find("{%", pos + 1)) {
    if (pos < copied) continue;
    size_t p = pos + 2;
    bool lstrip = p < s.size() && s[p] == '-';
    if (lstrip) ++p;
    p = ascii_space_run(s, p);
    if (s.compare(p, 3, "end") == 0) p += 3;
    if (s.compare(p, 10, "generation") != 0) continue;
    p = ascii_space_run(s, p + 10);
    bool rstrip = p < s.size() && s[p] == '-';
    if (rstrip) ++p;
    if (s.compare(p, 2, "%}") != 0) continue;
    size_t tag_end = p + 2;
    size_t before = pos;
    while (before > copied && text::is_js_space(static_cast<unsigned char>(s[before - 1]))) --before;
    size_t after_end = ascii_space_run(s, tag_end);
    for (size_t k = copied; k < (lstrip ? before : pos); ++k) out.push(s[k], in.origin[k]);
    if (!rstrip)
      for (size_t k = tag_end; k < after_end; ++k) out.push(s[k], in.origin[k]);
    copied = after_end;
  }
  for (size_t k = copied; k < s.size(); ++k) out.push(s[k], in.origin[k]);
  return out;
}

Mapped preprocess(std::string_view source) {
  Mapped m;
  m.text.assign(source);
  if (!m.text.empty() && m.text.back() == '\n') m.text.pop_back();
  m.origin.resize(m.text.size());
  for (size_t k = 0; k < m.origin.size(); ++k) m.origin[k] = k;
  m = strip_generation_tags(trim_blocks(lstrip_blocks(m)));
  m.origin.push_back(source.size());  // the end of input
  return m;
}

const std::array<std::pair<std::string_view, Tok>, 29> kOperators{{
    {"{%", Tok::open_statement},
    {"%}", Tok::close_statement},
    {"{{", Tok::open_expression},
    {"}}", Tok::close_expression},
    {"(", Tok::open_paren},
    {")", Tok::close_paren},
    {"{", Tok::open_curly},
    {"}", Tok::close_curly},
    {"[", Tok::open_square},
    {"]", Tok::close_square},
    {",", Tok::comma},
    {".", Tok::dot},
    {":", Tok::colon},
    {"|", Tok::pipe},
    {"<=", Tok::comparison},
    {">=", Tok::comparison},
    {"==", Tok::comparison},
    {"!=", Tok::comparison},
    {"<", Tok::comparison},
    {">", Tok::comparison},
    {"+", Tok::additive},
    {"-", Tok::additive},
    {"~", Tok::additive},
    {"**", Tok::exponent},
    {"*", Tok::multiplicative},
    {"//", Tok::multiplicative},
    {"/", Tok::multiplicative},
    {"%", Tok::multiplicative},
    {"=", Tok::equals},
}};

class Lexer {
 public:
  explicit Lexer(std::string_view source) : m_(preprocess(source)), src_(m_.text) {}

  std::vector<Token> run() {
    while (cur_ < src_.size()) step();
    return std::move(tokens_);
  }

 private:
  Mapped m_;
  const std::string& src_;
  size_t cur_ = 0;
  int curly_depth_ = 0;
  std::vector<Token> tokens_;

  [[noreturn]] void error(std::string message, size_t at) {
    throw SyntaxError{std::move(message), m_.origin[at]};
  }
  char at(size_t k) const { return k < src_.size() ? src_[k] : '\0'; }
  bool starts(std::string_view seq) const { return src_.compare(cur_, seq.size(), seq) == 0; }
  void push(Tok type, std::string value, size_t start) {
    tokens_.push_back({type, std::move(value), m_.origin[start]});
  }
  bool last_is(Tok type) const { return !tokens_.empty() && tokens_.back().type == type; }

  bool space_at(size_t k) const {
    if (k >= src_.size()) return false;
    size_t p = k;
    return text::is_js_space(utf8::decode(src_, p));
  }
  void skip_space() {
    while (space_at(cur_)) {
      size_t p = cur_;
      utf8::decode(src_, p);
      cur_ = p;
    }
  }
  // The reference lexer fails when a token runs into the end of input.
  void check_not_end(size_t start) {
    if (cur_ >= src_.size()) error("Unexpected end of input", start);
  }
  std::string digits() {
    size_t start = cur_;
    while (cur_ < src_.size() && std::isdigit(static_cast<unsigned char>(src_[cur_]))) {
      ++cur_;
      check_not_end(start);
    }
    return src_.substr(start, cur_ - start);
  }

  void strip_trailing_whitespace() {
    if (!last_is(Tok::text)) return;
    std::string& value = tokens_.back().value;
    value.resize(value.size() - text::trailing_space(value));
    if (value.empty()) tokens_.pop_back();
  }

  void step() {
    size_t start = cur_;
    if (tokens_.empty() || last_is(Tok::close_statement) || last_is(Tok::close_expression) ||
        last_is(Tok::comment)) {
      while (cur_ < src_.size() &&
             !(src_[cur_] == '{' && (at(cur_ + 1) == '%' || at(cur_ + 1) == '{' || at(cur_ + 1) == '#')))
        ++cur_;
      if (cur_ > start) {
        push(Tok::text, src_.substr(start, cur_ - start), start);
        return;
      }
    }
    if (starts("{#")) return comment();
    if (starts("{%-")) {
      strip_trailing_whitespace();
      push(Tok::open_statement, "{%", start);
      cur_ += 3;
      return;
    }
    if (starts("{{-")) {
      strip_trailing_whitespace();
      push(Tok::open_expression, "{{", start);
      curly_depth_ = 0;
      cur_ += 3;
      return;
    }
    skip_space();
    if (space_at(start) && cur_ >= src_.size()) error("Unexpected end of input", start);
    start = cur_;
    if (starts("-%}") || starts("-}}")) {
      push(starts("-%}") ? Tok::close_statement : Tok::close_expression, starts("-%}") ? "%}" : "}}", start);
      cur_ += 3;
      skip_space();
      return;
    }
    if (cur_ >= src_.size()) return;
    char c = src_[cur_];
    if ((c == '-' || c == '+') && unary_sign(c, start)) return;
    for (const auto& [seq, type] : kOperators) {
      if (seq == "}}" && curly_depth_ > 0) continue;
      if (!starts(seq)) continue;
      push(type, std::string(seq), start);
      if (type == Tok::open_expression) curly_depth_ = 0;
      if (type == Tok::open_curly) ++curly_depth_;
      if (type == Tok::close_curly) --curly_depth_;
      cur_ += seq.size();
      return;
    }
    if (c == '\'' || c == '"') return string_literal(c, start);
    if (std::isdigit(static_cast<unsigned char>(c))) {
      std::string num = digits();
      if (!last_is(Tok::dot) && at(cur_) == '.' && std::isdigit(static_cast<unsigned char>(at(cur_ + 1)))) {
        ++cur_;
        num += "." + digits();
      }
      push(Tok::number, num, start);
      return;
    }
    if (text::is_word_byte(c)) {
      while (cur_ < src_.size() && text::is_word_byte(src_[cur_])) {
        ++cur_;
        check_not_end(start);
      }
      push(Tok::identifier, src_.substr(start, cur_ - start), start);
      return;
    }
    size_t p = cur_;
    std::string ch;
    utf8::append(ch, utf8::decode(src_, p));
    error("Unexpected character: " + ch, start);
  }

  // A sign after an operand is binary; elsewhere it is unary and glues to a following number.
  bool unary_sign(char c, size_t start) {
    if (tokens_.empty() || last_is(Tok::text)) error(std::string("Unexpected character: ") + c, start);
    switch (tokens_.back().type) {
      case Tok::identifier:
      case Tok::number:
      case Tok::string:
      case Tok::close_paren:
      case Tok::close_square:
        return false;
      default:
        break;
    }
    ++cur_;
    std::string num = digits();
    if (!num.empty() && at(cur_) == '.' && std::isdigit(static_cast<unsigned char>(at(cur_ + 1)))) {
      ++cur_;
      num += "." + digits();
    }
    push(num.empty() ? Tok::unary : Tok::number, std::string(1, c) + num, start);
    return true;
  }

  void comment() {
    size_t start = cur_;
    cur_ += 2;
    bool strip_before = at(cur_) == '-';
    if (strip_before) ++cur_;
    size_t body = cur_;
    while (!(at(cur_) == '#' && at(cur_ + 1) == '}')) {
      if (cur_ + 2 >= src_.size()) error("Missing end of comment tag", start);
      ++cur_;
    }
    std::string value = src_.substr(body, cur_ - body);
    bool strip_after = !value.empty() && value.back() == '-';
    if (strip_after) value.pop_back();
    if (strip_before) strip_trailing_whitespace();
    push(Tok::comment, value, start);
    cur_ += 2;
    if (strip_after) skip_space();
  }

  void string_literal(char quote, size_t start) {
    ++cur_;
    std::string value;
    while (at(cur_) != quote) {
      if (cur_ >= src_.size()) error("Unexpected end of input", start);
      if (src_[cur_] == '\\') {
        ++cur_;
        if (cur_ >= src_.size()) error("Unexpected end of input", start);
        char e = src_[cur_++];
        if (e == 'x' || e == 'u') {
          size_t len = e == 'x' ? 2 : 4;
          std::string hex = src_.substr(cur_, len);
          bool ok = hex.size() == len;
          for (char h : hex) ok = ok && std::isxdigit(static_cast<unsigned char>(h));
          if (!ok) error(std::string("Invalid hexadecimal escape sequence: \\") + e + hex, cur_ - 2);
          char32_t cp = char32_t(std::stoul(hex, nullptr, 16));
          utf8::append(value, cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp);  // as Node prints a lone surrogate
          cur_ += len;
          continue;
        }
        static const std::string_view from = "ntrbfv'\"\\", to = "\n\t\r\b\f\v'\"\\";
        size_t k = from.find(e);
        if (k == std::string_view::npos) error(std::string("Unexpected escaped character: ") + e, cur_ - 2);
        value += to[k];
        continue;
      }
      value += src_[cur_++];
      check_not_end(start);
    }
    push(Tok::string, std::move(value), start);
    ++cur_;
  }
};

}  // namespace

std::vector<Token> tokenize(std::string_view source) { return Lexer(source).run(); }

}  // namespace ortlm::tpl
