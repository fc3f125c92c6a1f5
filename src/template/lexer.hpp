#pragma once
// Tokenizer for Jinja templates, following @huggingface/jinja's lexer (with trim_blocks and
// lstrip_blocks on, as Hugging Face configures chat templates) token for token.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ortlm::tpl {

enum class Tok : uint8_t {
  text,
  number,
  string,
  identifier,
  equals,
  open_paren,
  close_paren,
  open_statement,
  close_statement,
  open_expression,
  close_expression,
  open_square,
  close_square,
  open_curly,
  close_curly,
  comma,
  dot,
  colon,
  pipe,
  additive,
  multiplicative,
  exponent,
  comparison,
  unary,
  comment
};

struct Token {
  Tok type;
  std::string value;
  size_t pos;  // byte offset in the original (not preprocessed) source
};

// A syntax error at a byte offset of the original source.
struct SyntaxError {
  std::string message;
  size_t pos;
};

// Throws SyntaxError.
std::vector<Token> tokenize(std::string_view source);

}  // namespace ortlm::tpl
