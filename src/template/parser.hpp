#pragma once
// Parser from tokens to the syntax tree, with @huggingface/jinja's grammar and precedence.
#include <string_view>
#include <vector>

#include "template/ast.hpp"
#include "template/lexer.hpp"

namespace ortlm::tpl {

// Throws SyntaxError (with an offset in the source).
std::vector<NodePtr> parse(std::vector<Token> tokens, size_t source_size);

}  // namespace ortlm::tpl
