#include "template/parser.hpp"

#include <charconv>
#include <initializer_list>
#include <set>

namespace ortlm::tpl {

namespace {

constexpr int kMaxDepth = 256;

class Parser {
 public:
  Parser(std::vector<Token> tokens, size_t end) : t_(std::move(tokens)), end_(end) {}

  std::vector<NodePtr> program() {
    std::vector<NodePtr> body;
    while (cur_ < t_.size()) body.push_back(any());
    return body;
  }

 private:
  std::vector<Token> t_;
  size_t end_;
  size_t cur_ = 0;
  int depth_ = 0;

  // Bounds recursion so that deeply nested input fails cleanly instead of overflowing the stack.
  struct Guard {
    Parser& p;
    explicit Guard(Parser& parser) : p(parser) {
      if (++p.depth_ > kMaxDepth) p.error("template nested too deeply");
    }
    ~Guard() { --p.depth_; }
  };

  size_t here() const { return cur_ < t_.size() ? t_[cur_].pos : end_; }
  [[noreturn]] void error(const std::string& message) const { throw SyntaxError{message, here()}; }
  const Token& peek() const {
    if (cur_ >= t_.size()) error("Unexpected end of template");
    return t_[cur_];
  }
  const Token& next() {
    const Token& tok = peek();
    ++cur_;
    return tok;
  }
  bool is(Tok type, size_t ahead = 0) const {
    return cur_ + ahead < t_.size() && t_[cur_ + ahead].type == type;
  }
  bool is_identifier(std::string_view name, size_t ahead = 0) const {
    return is(Tok::identifier, ahead) && t_[cur_ + ahead].value == name;
  }
  bool is_statement(std::initializer_list<std::string_view> names) const {
    if (!is(Tok::open_statement) || !is(Tok::identifier, 1)) return false;
    for (auto name : names)
      if (t_[cur_ + 1].value == name) return true;
    return false;
  }
  void expect(Tok type, const char* what) {
    if (!is(type)) error(std::string("Expected ") + what);
    ++cur_;
  }
  void expect_identifier(std::string_view name) {
    if (!is_identifier(name)) error("Expected " + std::string(name));
    ++cur_;
  }
  void expect_end_tag(std::string_view name) {
    expect(Tok::open_statement, "'{%'");
    expect_identifier(name);
    expect(Tok::close_statement, "'%}'");
  }
  NodePtr node(NodeKind kind, size_t pos) { return std::make_unique<Node>(kind, pos); }

  // Statements up to (not including) one of the named tags.
  std::vector<NodePtr> block_until(std::initializer_list<std::string_view> names) {
    std::vector<NodePtr> body;
    while (!is_statement(names)) {
      if (cur_ >= t_.size())
        error("Unexpected end of template, expected '{% " + std::string(*(names.end() - 1)) + " %}'");
      body.push_back(any());
    }
    return body;
  }

  NodePtr any() {
    Guard guard(*this);
    const Token& tok = peek();
    switch (tok.type) {
      case Tok::comment: {
        auto n = node(NodeKind::comment, tok.pos);
        n->str = next().value;
        return n;
      }
      case Tok::text: {
        auto n = node(NodeKind::text, tok.pos);
        n->str = next().value;
        return n;
      }
      case Tok::open_statement:
        return statement();
      case Tok::open_expression: {
        ++cur_;
        auto n = expression();
        expect(Tok::close_expression, "'}}'");
        return n;
      }
      default:
        error("Unexpected token '" + tok.value + "'");
    }
  }

  NodePtr statement() {
    expect(Tok::open_statement, "'{%'");
    if (!is(Tok::identifier)) error("Unknown statement, got '" + peek().value + "'");
    size_t pos = here();
    std::string name = next().value;
    if (name == "set") return set_statement(pos);
    if (name == "if") {
      auto n = if_statement(pos);
      expect_end_tag("endif");
      return n;
    }
    if (name == "macro") {
      auto n = node(NodeKind::macro, pos);
      auto callee = primary();
      if (callee->kind != NodeKind::identifier) error("Expected identifier following macro statement");
      n->str = callee->str;
      n->list = arguments(true);
      expect(Tok::close_statement, "'%}'");
      n->body = block_until({"endmacro"});
      expect_end_tag("endmacro");
      return n;
    }
    if (name == "for") return for_statement(pos);
    if (name == "call") {
      auto n = node(NodeKind::call_block, pos);
      if (is(Tok::open_paren)) n->list = arguments(true);
      auto callee = primary();
      if (callee->kind != NodeKind::identifier) error("Expected identifier following call statement");
      auto call = node(NodeKind::call, callee->pos);
      call->a = std::move(callee);
      call->list = arguments(false);
      n->a = std::move(call);
      expect(Tok::close_statement, "'%}'");
      n->body = block_until({"endcall"});
      expect_end_tag("endcall");
      return n;
    }
    if (name == "break" || name == "continue") {
      expect(Tok::close_statement, "'%}'");
      return node(name == "break" ? NodeKind::break_ : NodeKind::continue_, pos);
    }
    if (name == "filter") {
      auto n = node(NodeKind::filter_block, pos);
      auto filter = primary();
      if (filter->kind == NodeKind::identifier && is(Tok::open_paren))
        filter = call_expression(std::move(filter));
      if (filter->kind != NodeKind::identifier && filter->kind != NodeKind::call)
        error("Expected a filter name");
      n->a = std::move(filter);
      expect(Tok::close_statement, "'%}'");
      n->body = block_until({"endfilter"});
      expect_end_tag("endfilter");
      return n;
    }
    cur_ -= 1;
    error("Unknown statement type: " + name);
  }

  NodePtr set_statement(size_t pos) {
    auto n = node(NodeKind::set, pos);
    n->a = sequence(false);
    if (is(Tok::equals)) {
      ++cur_;
      n->b = sequence(false);
    } else {
      expect(Tok::close_statement, "'%}'");
      n->body = block_until({"endset"});
      expect(Tok::open_statement, "'{%'");
      expect_identifier("endset");
    }
    expect(Tok::close_statement, "'%}'");
    return n;
  }

  NodePtr if_statement(size_t pos) {
    Guard guard(*this);
    auto n = node(NodeKind::if_, pos);
    n->c = expression();
    expect(Tok::close_statement, "'%}'");
    n->body = block_until({"elif", "else", "endif"});
    if (is_statement({"elif"})) {
      cur_ += 2;
      n->alt.push_back(if_statement(t_[cur_ - 1].pos));
    } else if (is_statement({"else"})) {
      cur_ += 2;
      expect(Tok::close_statement, "'%}'");
      n->alt = block_until({"endif"});
    }
    return n;
  }

  NodePtr for_statement(size_t pos) {
    auto n = node(NodeKind::for_, pos);
    n->a = sequence(true);
    if (n->a->kind != NodeKind::identifier && n->a->kind != NodeKind::tuple)
      error("Expected identifier/tuple for the loop variable");
    if (!is_identifier("in")) error("Expected `in` keyword following loop variable");
    ++cur_;
    n->b = expression();
    expect(Tok::close_statement, "'%}'");
    n->body = block_until({"endfor", "else"});
    if (is_statement({"else"})) {
      cur_ += 2;
      expect(Tok::close_statement, "'%}'");
      n->alt = block_until({"endfor"});
    }
    expect_end_tag("endfor");
    return n;
  }

  // `a, b, c` becomes a tuple; a single expression stays itself.
  NodePtr sequence(bool primary_only) {
    size_t pos = here();
    auto first = primary_only ? primary() : expression();
    if (!is(Tok::comma)) return first;
    auto tuple = node(NodeKind::tuple, pos);
    tuple->list.push_back(std::move(first));
    while (is(Tok::comma)) {
      ++cur_;
      tuple->list.push_back(primary_only ? primary() : expression());
    }
    return tuple;
  }

  NodePtr expression() {
    Guard guard(*this);
    auto value = logical_or();
    if (!is_identifier("if")) return value;
    size_t pos = here();
    ++cur_;
    auto test = logical_or();
    if (is_identifier("else")) {
      ++cur_;
      auto n = node(NodeKind::ternary, pos);
      n->c = std::move(test);
      n->a = std::move(value);
      n->b = expression();
      return n;
    }
    auto n = node(NodeKind::select, pos);
    n->a = std::move(value);
    n->b = std::move(test);
    return n;
  }

  NodePtr binary(std::string op, size_t pos, NodePtr left, NodePtr right) {
    auto n = node(NodeKind::binary, pos);
    n->str = std::move(op);
    n->a = std::move(left);
    n->b = std::move(right);
    return n;
  }

  NodePtr logical_or() {
    auto left = logical_and();
    while (is_identifier("or")) {
      size_t pos = here();
      ++cur_;
      left = binary("or", pos, std::move(left), logical_and());
    }
    return left;
  }

  NodePtr logical_and() {
    auto left = logical_not();
    while (is_identifier("and")) {
      size_t pos = here();
      ++cur_;
      left = binary("and", pos, std::move(left), logical_not());
    }
    return left;
  }

  NodePtr logical_not() {
    if (!is_identifier("not")) return comparison();
    Guard guard(*this);
    auto n = node(NodeKind::unary, here());
    ++cur_;
    n->str = "not";
    n->a = logical_not();
    return n;
  }

  NodePtr comparison() {
    auto left = additive();
    while (true) {
      size_t pos = here();
      std::string op;
      if (is_identifier("not") && is_identifier("in", 1)) {
        op = "not in";
        cur_ += 2;
      } else if (is_identifier("in") || is(Tok::comparison)) {
        op = next().value;
      } else {
        break;
      }
      left = binary(op, pos, std::move(left), additive());
    }
    return left;
  }

  NodePtr additive() {
    auto left = multiplicative();
    while (is(Tok::additive)) {
      size_t pos = here();
      std::string op = next().value;
      left = binary(op, pos, std::move(left), multiplicative());
    }
    return left;
  }

  NodePtr multiplicative() {
    auto left = power();
    while (is(Tok::multiplicative)) {
      size_t pos = here();
      std::string op = next().value;
      left = binary(op, pos, std::move(left), power());
    }
    return left;
  }

  NodePtr power() {
    auto left = test_expression();
    while (is(Tok::exponent)) {
      size_t pos = here();
      ++cur_;
      left = binary("**", pos, std::move(left), test_expression());
    }
    return left;
  }

  NodePtr test_expression() {
    auto operand = filter_expression();
    while (is_identifier("is")) {
      auto n = node(NodeKind::test, here());
      ++cur_;
      if (is_identifier("not")) {
        n->flag = true;
        ++cur_;
      }
      auto name = primary();
      if (name->kind != NodeKind::identifier) error("Expected identifier for the test");
      n->str = name->str;
      if (is(Tok::open_paren)) n->list = arguments(false);  // extension: tests with arguments
      n->a = std::move(operand);
      operand = std::move(n);
    }
    return operand;
  }

  NodePtr filter_expression() {
    auto operand = unary_sign();
    while (is(Tok::pipe)) {
      auto n = node(NodeKind::filter, here());
      ++cur_;
      auto filter = primary();
      if (filter->kind != NodeKind::identifier) error("Expected identifier for the filter");
      if (is(Tok::open_paren)) {
        auto call = node(NodeKind::call, filter->pos);
        call->a = std::move(filter);
        call->list = arguments(false);
        filter = std::move(call);
      }
      n->a = std::move(operand);
      n->b = std::move(filter);
      operand = std::move(n);
    }
    return operand;
  }

  NodePtr unary_sign() {
    if ((is(Tok::unary) || is(Tok::additive)) && (peek().value == "-" || peek().value == "+")) {
      Guard guard(*this);
      auto n = node(NodeKind::unary, here());
      n->str = next().value;
      n->a = unary_sign();
      return n;
    }
    auto member = member_expression(primary());
    if (is(Tok::open_paren)) return call_expression(std::move(member));
    return member;
  }

  NodePtr call_expression(NodePtr callee) {
    Guard guard(*this);
    auto n = node(NodeKind::call, callee->pos);
    n->a = std::move(callee);
    n->list = arguments(false);
    auto result = member_expression(std::move(n));
    if (is(Tok::open_paren)) return call_expression(std::move(result));
    return result;
  }

  // `(a, b=1, *c, **d)`; in a declaration (`parameters`) only names and defaults are allowed.
  std::vector<NodePtr> arguments(bool parameters) {
    expect(Tok::open_paren, "'('");
    std::vector<NodePtr> args;
    std::set<std::string> names;
    bool saw_keyword = false, saw_spread = false;
    while (!is(Tok::close_paren)) {
      size_t pos = here();
      bool keyword_spread = is(Tok::exponent);
      bool spread = is(Tok::multiplicative) && peek().value == "*";
      if (parameters && (keyword_spread || spread))
        error("Argument unpacking is not allowed in parameter declarations");
      if (keyword_spread) {
        ++cur_;
        auto n = node(NodeKind::keyword_spread, pos);
        n->a = expression();
        args.push_back(std::move(n));
        if (is(Tok::comma)) ++cur_;
        if (!is(Tok::close_paren))
          error("Expected closing parenthesis: `**` must be applied to the final argument");
        break;
      }
      NodePtr arg;
      if (spread) {
        if (saw_spread) error("Only one `*` argument unpacking is allowed");
        saw_spread = true;
        ++cur_;
        arg = node(NodeKind::spread, pos);
        arg->a = expression();
      } else {
        arg = expression();
        if (is(Tok::equals)) {
          ++cur_;
          if (arg->kind != NodeKind::identifier) error("Expected identifier for keyword argument");
          auto kw = node(NodeKind::keyword_arg, arg->pos);
          kw->str = arg->str;
          kw->a = expression();
          arg = std::move(kw);
        }
        if (parameters) {
          if (arg->kind != NodeKind::identifier && arg->kind != NodeKind::keyword_arg)
            error("Expected identifier for parameter declaration");
          if (!names.insert(arg->str).second) error("Duplicate parameter name: " + arg->str);
        }
        if (arg->kind == NodeKind::keyword_arg) {
          saw_keyword = true;
        } else if (saw_keyword) {
          error(parameters ? "Non-default argument follows default argument"
                           : "Positional arguments must come before keyword arguments");
        } else if (saw_spread) {
          error("Positional arguments must not follow `*` argument unpacking");
        }
      }
      args.push_back(std::move(arg));
      if (is(Tok::comma)) ++cur_;
    }
    ++cur_;
    return args;
  }

  NodePtr subscript() {
    size_t pos = here();
    std::vector<NodePtr> parts;
    bool is_slice = false;
    while (!is(Tok::close_square)) {
      if (is(Tok::colon)) {
        parts.push_back(nullptr);
        ++cur_;
        is_slice = true;
      } else {
        parts.push_back(expression());
        if (is(Tok::colon)) {
          ++cur_;
          is_slice = true;
        }
      }
    }
    if (parts.empty()) error("Expected at least one argument for member/slice expression");
    if (!is_slice) return std::move(parts[0]);
    if (parts.size() > 3) error("Expected 0-3 arguments for slice expression");
    auto n = node(NodeKind::slice, pos);
    parts.resize(3);
    n->a = std::move(parts[0]);
    n->b = std::move(parts[1]);
    n->c = std::move(parts[2]);
    return n;
  }

  NodePtr member_expression(NodePtr object) {
    while (is(Tok::dot) || is(Tok::open_square)) {
      auto n = node(NodeKind::member, here());
      n->flag = next().type == Tok::open_square;
      if (n->flag) {
        n->b = subscript();
        expect(Tok::close_square, "']'");
      } else {
        n->b = primary();
        if (n->b->kind != NodeKind::identifier && n->b->kind != NodeKind::integer)
          error("Expected identifier or integer following dot operator");
      }
      n->a = std::move(object);
      object = std::move(n);
    }
    return object;
  }

  NodePtr primary() {
    Guard guard(*this);
    size_t pos = here();
    const Token& tok = next();
    switch (tok.type) {
      case Tok::number: {
        bool is_float = tok.value.find('.') != std::string::npos;
        auto n = node(is_float ? NodeKind::floating : NodeKind::integer, pos);
        const char* first = tok.value.data();
        const char* last = first + tok.value.size();
        if (*first == '+') ++first;
        auto res = is_float ? std::from_chars(first, last, n->fval) : std::from_chars(first, last, n->ival);
        if (res.ec != std::errc() || res.ptr != last) {
          cur_ -= 1;
          error("Number literal out of range: " + tok.value);
        }
        return n;
      }
      case Tok::string: {
        auto n = node(NodeKind::string, pos);
        n->str = tok.value;
        while (is(Tok::string)) n->str += next().value;
        return n;
      }
      case Tok::identifier: {
        auto n = node(NodeKind::identifier, pos);
        n->str = tok.value;
        return n;
      }
      case Tok::open_paren: {
        auto n = sequence(false);
        expect(Tok::close_paren, "')'");
        return n;
      }
      case Tok::open_square: {
        auto n = node(NodeKind::array, pos);
        while (!is(Tok::close_square)) {
          n->list.push_back(expression());
          if (is(Tok::comma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      case Tok::open_curly: {
        auto n = node(NodeKind::object, pos);
        while (!is(Tok::close_curly)) {
          n->list.push_back(expression());
          expect(Tok::colon, "':' between key and value in object literal");
          n->list.push_back(expression());
          if (is(Tok::comma)) ++cur_;
        }
        ++cur_;
        return n;
      }
      default:
        cur_ -= 1;
        error("Unexpected token '" + tok.value + "'");
    }
  }
};

}  // namespace

std::vector<NodePtr> parse(std::vector<Token> tokens, size_t source_size) {
  return Parser(std::move(tokens), source_size).program();
}

}  // namespace ortlm::tpl
