#pragma once
// The syntax tree. One node type with a kind tag keeps the parser and evaluator small; the comment
// on each kind says which fields it uses.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ortlm::tpl {

enum class NodeKind : uint8_t {
  text,            // str
  integer,         // ival
  floating,        // fval
  string,          // str
  identifier,      // str
  array,           // list
  tuple,           // list
  object,          // list: key, value, key, value, ...
  member,          // a = object, b = property (or slice); flag = computed ([...])
  slice,           // a, b, c = start, stop, step (each may be null)
  call,            // a = callee, list = arguments
  keyword_arg,     // str = name, a = value
  spread,          // a = value (*args)
  keyword_spread,  // a = value (**kwargs)
  unary,           // str = operator ("not", "-", "+"), a = operand
  binary,          // str = operator, a = left, b = right
  filter,          // a = operand, b = filter (identifier or call)
  test,            // a = operand, str = test name, flag = negated, list = arguments (extension)
  select,          // a = value, b = condition (`x if cond` without else)
  ternary,         // c = condition, a = if true, b = if false
  set,             // a = target, b = value (or null: body is the value)
  if_,             // c = condition, body, alt
  for_,            // a = loop target, b = iterable (a select node for inline filtering), body, alt = else
  macro,           // str = name, list = parameters, body
  call_block,      // a = call, list = caller parameters, body
  filter_block,    // a = filter, body
  break_,
  continue_,
  comment,
};

struct Node;
using NodePtr = std::unique_ptr<Node>;

struct Node {
  NodeKind kind;
  size_t pos = 0;  // byte offset in the template source
  std::string str;
  int64_t ival = 0;
  double fval = 0;
  bool flag = false;
  NodePtr a, b, c;
  std::vector<NodePtr> list, body, alt;

  Node(NodeKind k, size_t p) : kind(k), pos(p) {}
};

}  // namespace ortlm::tpl
