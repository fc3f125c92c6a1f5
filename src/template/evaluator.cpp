#include "template/evaluator.hpp"

#include <cmath>
#include <memory>

#include "template/json_format.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

// Loop control travels as exceptions, as in the reference engine: a `break` inside a macro called
// from a loop ends that loop.
struct BreakSignal {};
struct ContinueSignal {};

bool is_numeric_like(const Value& v) { return v.is_number() || v.kind == Kind::boolean; }

// Integer arithmetic that fails instead of overflowing.
int64_t checked_add(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) fail("integer overflow");
  return r;
}
int64_t checked_sub(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) fail("integer overflow");
  return r;
}
int64_t checked_mul(int64_t a, int64_t b) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) fail("integer overflow");
  return r;
}

// base ** exponent (exponent >= 0) by squaring: a few multiplications even for 1 ** 10**12.
int64_t integer_power(int64_t base, int64_t exponent) {
  int64_t result = 1;
  while (exponent > 0) {
    if (exponent & 1) result = checked_mul(result, base);
    exponent >>= 1;
    if (exponent > 0) base = checked_mul(base, base);
  }
  return result;
}

bool mentions(const Node* node, const std::string& name) {
  if (!node) return false;
  if (node->kind == NodeKind::identifier && node->str == name) return true;
  if (mentions(node->a.get(), name) || mentions(node->b.get(), name) || mentions(node->c.get(), name))
    return true;
  for (const auto* list : {&node->list, &node->body, &node->alt})
    for (const auto& child : *list)
      if (mentions(child.get(), name)) return true;
  return false;
}

bool body_mentions(const std::vector<NodePtr>& body, const std::string& name) {
  for (const auto& node : body)
    if (mentions(node.get(), name)) return true;
  return false;
}

}  // namespace

Value Env::lookup(const std::string& name) const {
  for (const Env* env = this; env; env = env->parent) {
    auto it = env->vars.find(name);
    if (it != env->vars.end()) return it->second;
  }
  return Value::undefined();
}

void Interpreter::limit_memory_after_input() {
  budget_.set_limit(limits_.max_memory, limits_.memory_per_input_byte, budget_.held());
}

void Interpreter::step() {
  if (++steps_ > limits_.max_steps) fail("template takes too many steps (endless loop?)");
}

std::string Interpreter::run(const std::vector<NodePtr>& program, Env& globals) {
  try {
    return block(program, globals);
  } catch (const BreakSignal&) {
    fail("'break' outside of a loop");
  } catch (const ContinueSignal&) {
    fail("'continue' outside of a loop");
  }
}

Value Interpreter::evaluate(const Node& node, Env& env) {
  step();
  if (++depth_ > limits_.max_depth) {
    --depth_;
    throw RenderError{"template recursion too deep (limit " + std::to_string(limits_.max_depth) + ")",
                      int64_t(node.pos)};
  }
  try {
    Value v = evaluate_node(node, env);
    --depth_;
    return v;
  } catch (RenderError& e) {
    --depth_;
    if (e.pos < 0) e.pos = int64_t(node.pos);
    throw;
  } catch (...) {
    --depth_;
    throw;
  }
}

std::string Interpreter::block(const std::vector<NodePtr>& body, Env& env) {
  std::string out;
  PendingOutput pending(budget_);
  for (const auto& statement : body) {
    Value v = evaluate(*statement, env);
    if (v.is_none()) continue;
    std::string piece = v.kind == Kind::string ? std::move(v.s) : to_output(v);
    pending.grow_to(out.size() + piece.size());
    out += piece;
  }
  return out;
}

CallArgs Interpreter::evaluate_arguments(const std::vector<NodePtr>& args, Env& env) {
  CallArgs out;
  auto add_keyword = [&](const std::string& key, Value value) {
    if (out.keyword(key)) fail("Got multiple values for keyword argument '" + key + "'");
    out.keywords.emplace_back(key, std::move(value));
  };
  for (const auto& arg : args) {
    if (arg->kind == NodeKind::spread) {
      Value v = evaluate(*arg->a, env);
      if (v.kind != Kind::array) fail(std::string("Cannot unpack non-iterable type: ") + kind_name(v.kind));
      for (const auto& item : v.arr->items) out.positional.push_back(item);
    } else if (arg->kind != NodeKind::keyword_arg && arg->kind != NodeKind::keyword_spread) {
      out.positional.push_back(evaluate(*arg, env));
    }
  }
  for (const auto& arg : args) {
    if (arg->kind == NodeKind::keyword_arg) {
      add_keyword(arg->str, evaluate(*arg->a, env));
    } else if (arg->kind == NodeKind::keyword_spread) {
      Value v = evaluate(*arg->a, env);
      if (v.kind != Kind::object)
        fail(std::string("Argument after ** must be a mapping, not ") + kind_name(v.kind));
      for (const auto& [key, value] : v.obj->entries) add_keyword(key, value);
    }
  }
  return out;
}

Value Interpreter::call(const Value& callee, CallArgs& args, Env& env) {
  if (callee.kind != Kind::function)
    fail(std::string("Cannot call something that is not a function: got ") + kind_name(callee.kind));
  return callee.fn->call(*this, args, env);
}

Value Interpreter::evaluate_node(const Node& node, Env& env) {
  switch (node.kind) {
    case NodeKind::text:
    case NodeKind::string:
      return Value::string(node.str);
    case NodeKind::integer:
      return Value::integer(node.ival);
    case NodeKind::floating:
      return Value::floating(node.fval);
    case NodeKind::identifier:
      return env.lookup(node.str);
    case NodeKind::comment:
      return Value::null();
    case NodeKind::array:
    case NodeKind::tuple: {
      std::vector<Value> items;
      for (const auto& item : node.list) items.push_back(evaluate(*item, env));
      return heap_.array(std::move(items), node.kind == NodeKind::tuple);
    }
    case NodeKind::object:
      return object_literal(node, env);
    case NodeKind::member:
      return member(node, env);
    case NodeKind::call:
      return call_expression(node, env);
    case NodeKind::unary:
      return unary(node, env);
    case NodeKind::binary:
      return binary(node, env);
    case NodeKind::filter:
      return apply_filter(*this, evaluate(*node.a, env), *node.b, env);
    case NodeKind::filter_block:
      return apply_filter(*this, Value::string(block(node.body, env)), *node.a, env);
    case NodeKind::test:
      return test(node, env);
    case NodeKind::select:
      return truthy(evaluate(*node.b, env)) ? evaluate(*node.a, env) : Value::undefined();
    case NodeKind::ternary:
      return evaluate(truthy(evaluate(*node.c, env)) ? *node.a : *node.b, env);
    case NodeKind::set:
      return set(node, env);
    case NodeKind::if_:
      return Value::string(block(truthy(evaluate(*node.c, env)) ? node.body : node.alt, env));
    case NodeKind::for_:
      return for_loop(node, env);
    case NodeKind::macro:
      return macro(node, env);
    case NodeKind::call_block:
      return call_block(node, env);
    case NodeKind::break_:
      throw BreakSignal{};
    case NodeKind::continue_:
      throw ContinueSignal{};
    case NodeKind::slice:
    case NodeKind::keyword_arg:
    case NodeKind::spread:
    case NodeKind::keyword_spread:
      break;
  }
  fail("unexpected syntax here");
}

Value Interpreter::object_literal(const Node& node, Env& env) {
  Value obj = heap_.object();
  for (size_t k = 0; k + 1 < node.list.size(); k += 2) {
    Value key = evaluate(*node.list[k], env);
    if (key.kind != Kind::string)
      fail(std::string("Object keys must be strings: got ") + kind_name(key.kind));
    obj.obj->set(key.s, evaluate(*node.list[k + 1], env));
  }
  return obj;
}

Value Interpreter::unary(const Node& node, Env& env) {
  Value v = evaluate(*node.a, env);
  if (node.str == "not") return Value::boolean(!truthy(v));
  if (!is_numeric_like(v)) fail("Unknown operator \"" + node.str + "\" for " + kind_name(v.kind));
  bool negate = node.str == "-";
  if (v.kind == Kind::floating) return Value::floating(negate ? -v.f : v.f);
  int64_t n = v.kind == Kind::boolean ? (v.b ? 1 : 0) : v.i;
  if (negate && n == INT64_MIN) fail("integer overflow");
  return Value::integer(negate ? -n : n);
}

Value Interpreter::binary(const Node& node, Env& env) {
  const std::string& op = node.str;
  Value left = evaluate(*node.a, env);
  if (op == "and") return truthy(left) ? evaluate(*node.b, env) : left;
  if (op == "or") return truthy(left) ? left : evaluate(*node.b, env);
  Value right = evaluate(*node.b, env);
  if (op == "==") return Value::boolean(loose_equals(left, right));
  if (op == "!=") return Value::boolean(!loose_equals(left, right));
  bool membership = op == "in" || op == "not in";
  if (left.is(Kind::undefined) || right.is(Kind::undefined)) {
    if (right.is(Kind::undefined) && membership) return Value::boolean(op == "not in");
    fail("Cannot perform operation " + op + " on undefined values");
  }
  if (left.is(Kind::null) || right.is(Kind::null)) fail("Cannot perform operation on null values");
  if (op == "~") {
    std::string out = to_js_string(left);
    std::string rhs = to_js_string(right);
    check_size(out.size() + rhs.size());
    return Value::string(out + rhs);
  }
  if (op == "**" && is_numeric_like(left) && is_numeric_like(right)) {
    double a = left.number(), b = right.number();
    if (a == 0 && b < 0) fail("0.0 cannot be raised to a negative power");
    double result = std::pow(a, b);
    if (!std::isfinite(result)) fail("Exponentiation result is not a finite real number");
    if (left.is(Kind::floating) || right.is(Kind::floating) || b < 0) return Value::floating(result);
    if (std::fabs(result) >= 9.2e18) fail("integer overflow");
    return Value::integer(integer_power(left.kind == Kind::boolean ? left.b : left.i,
                                        right.kind == Kind::boolean ? right.b : right.i));
  }
  if (left.is_number() && right.is_number()) {
    bool is_float = left.is(Kind::floating) || right.is(Kind::floating);
    double a = left.number(), b = right.number();
    if (op == "<") return Value::boolean(a < b);
    if (op == ">") return Value::boolean(a > b);
    if (op == "<=") return Value::boolean(a <= b);
    if (op == ">=") return Value::boolean(a >= b);
    if (op == "/") return Value::floating(a / b);
    if (is_float) {
      if (op == "+") return Value::floating(a + b);
      if (op == "-") return Value::floating(a - b);
      if (op == "*") return Value::floating(a * b);
      if (op == "//") return Value::floating(std::floor(a / b));
      if (op == "%") return Value::floating(std::fmod(a, b));
    } else {
      int64_t x = left.i, y = right.i;
      if (op == "+") return Value::integer(checked_add(x, y));
      if (op == "-") return Value::integer(checked_sub(x, y));
      if (op == "*") return Value::integer(checked_mul(x, y));
      if (op == "//" || op == "%") {
        if (y == 0) fail("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) fail("integer overflow");
        if (op == "%") return Value::integer(x % y);  // JavaScript's remainder keeps the dividend's sign
        int64_t q = x / y;
        return Value::integer((x % y != 0 && ((x < 0) != (y < 0))) ? q - 1 : q);
      }
    }
  } else if (left.is(Kind::array) && right.is(Kind::array)) {
    if (op == "+") {
      std::vector<Value> items = left.arr->items;
      items.insert(items.end(), right.arr->items.begin(), right.arr->items.end());
      return heap_.array(std::move(items));
    }
  } else if (right.is(Kind::array) && membership) {
    bool found = false;
    for (const auto& item : right.arr->items) found = found || strict_equals(item, left);
    return Value::boolean(found == (op == "in"));
  }
  if ((left.is(Kind::string) || right.is(Kind::string)) && op == "+") {
    std::string out = to_js_string(left);
    std::string rhs = to_js_string(right);
    check_size(out.size() + rhs.size());
    return Value::string(out + rhs);
  }
  if (left.is(Kind::string) && right.is(Kind::string)) {
    if (membership) return Value::boolean((right.s.find(left.s) != std::string::npos) == (op == "in"));
    // Extension (the reference rejects these): Python's string ordering.
    if (op == "<") return Value::boolean(left.s < right.s);
    if (op == ">") return Value::boolean(left.s > right.s);
    if (op == "<=") return Value::boolean(left.s <= right.s);
    if (op == ">=") return Value::boolean(left.s >= right.s);
  }
  if (left.is(Kind::string) && right.is(Kind::object) && membership)
    return Value::boolean((right.obj->find(left.s) != nullptr) == (op == "in"));
  // Extension: Python's string repetition.
  if (op == "*" && left.is(Kind::string) && right.is(Kind::integer)) {
    if (right.i <= 0 || left.s.empty()) return Value::string("");
    size_t bytes = left.s.size() * size_t(std::min<int64_t>(right.i, int64_t(limits_.max_output) + 1));
    check_size(bytes);
    std::string out;
    out.reserve(bytes);
    for (int64_t k = 0; k < right.i; ++k) out += left.s;
    return Value::string(std::move(out));
  }
  fail("Unknown operator \"" + op + "\" between " + kind_name(left.kind) + " and " + kind_name(right.kind));
}

Value Interpreter::test(const Node& node, Env& env) {
  Value operand = evaluate(*node.a, env);
  if (!has_test(node.str)) fail("Unknown test: " + node.str);
  CallArgs args = evaluate_arguments(node.list, env);
  bool result = apply_test(node.str, operand, args.positional);
  return Value::boolean(node.flag ? !result : result);
}

Value Interpreter::set(const Node& node, Env& env) {
  Value rhs = node.b ? evaluate(*node.b, env) : Value::string(block(node.body, env));
  const Node& target = *node.a;
  if (target.kind == NodeKind::identifier) {
    env.vars[target.str] = rhs;
  } else if (target.kind == NodeKind::tuple) {
    if (!rhs.is(Kind::array))
      fail(std::string("Cannot unpack non-iterable type in set: ") + kind_name(rhs.kind));
    if (rhs.arr->items.size() != target.list.size())
      fail(std::string("Too ") + (target.list.size() > rhs.arr->items.size() ? "few" : "many") +
           " items to unpack in set");
    for (size_t k = 0; k < target.list.size(); ++k) {
      if (target.list[k]->kind != NodeKind::identifier) fail("Cannot unpack to non-identifier in set");
      env.vars[target.list[k]->str] = rhs.arr->items[k];
    }
  } else if (target.kind == NodeKind::member) {
    Value object = evaluate(*target.a, env);
    if (!object.is(Kind::ns)) fail("cannot assign attribute on non-namespace object");
    if (target.b->kind != NodeKind::identifier) fail("Cannot assign to member with non-identifier property");
    object.obj->set(target.b->str, rhs);
  } else {
    fail("Invalid LHS inside assignment expression");
  }
  return Value::null();
}

Value Interpreter::for_loop(const Node& node, Env& env) {
  Env scope(&env);
  const Node* condition = nullptr;
  Value iterable;
  if (node.b->kind == NodeKind::select) {
    iterable = evaluate(*node.b->a, scope);
    condition = node.b->b.get();
  } else {
    iterable = evaluate(*node.b, scope);
  }
  std::vector<Value> all;
  if (iterable.is(Kind::array)) {
    all = iterable.arr->items;
  } else if (iterable.is(Kind::object)) {
    for (const auto& entry : iterable.obj->entries) all.push_back(Value::string(entry.first));
  } else if (iterable.is(Kind::string)) {  // extension: Python iterates characters
    for (auto& ch : text::code_points(iterable.s)) all.push_back(Value::string(std::move(ch)));
  } else {
    fail(std::string("Expected iterable or object type in for loop: got ") + kind_name(iterable.kind));
  }
  const Node& target = *node.a;
  auto bind = [&](Env& into, const Value& item) {
    if (target.kind == NodeKind::identifier) {
      into.vars[target.str] = item;
      return;
    }
    if (!item.is(Kind::array)) fail(std::string("Cannot unpack non-iterable type: ") + kind_name(item.kind));
    if (item.arr->items.size() != target.list.size())
      fail(std::string("Too ") + (target.list.size() > item.arr->items.size() ? "few" : "many") +
           " items to unpack");
    for (size_t k = 0; k < target.list.size(); ++k) {
      if (target.list[k]->kind != NodeKind::identifier) fail("Cannot unpack non-identifier type");
      into.vars[target.list[k]->str] = item.arr->items[k];
    }
  };
  std::vector<Value> items;
  for (const auto& item : all) {
    if (condition) {
      Env test_scope(&scope);
      bind(test_scope, item);
      if (!truthy(evaluate(*condition, test_scope))) continue;
    }
    items.push_back(item);
  }
  std::string out;
  PendingOutput pending(budget_);
  bool iterated = false;
  auto current = std::make_shared<int64_t>(0);
  Value cycle = heap_.function("cycle", [current](Interpreter&, CallArgs& args, Env&) {
    if (args.positional.empty()) fail("no items for cycling given");
    return args.positional[size_t(*current) % args.positional.size()];
  });
  int64_t n = int64_t(items.size());
  // One `loop` object per loop, updated in place each iteration (cheaper than a new one each time).
  Value loop = heap_.object();
  ObjectData& l = *loop.obj;
  for (const char* key : {"index", "index0", "revindex", "revindex0", "first", "last", "length", "previtem",
                          "nextitem", "depth", "depth0"})
    l.set(key, Value::undefined());
  l.set("cycle", cycle);
  for (int64_t k = 0; k < n; ++k) {
    step();
    *current = k;
    auto& e = l.entries;
    e[0].second = Value::integer(k + 1);
    e[1].second = Value::integer(k);
    e[2].second = Value::integer(n - k);
    e[3].second = Value::integer(n - k - 1);
    e[4].second = Value::boolean(k == 0);
    e[5].second = Value::boolean(k == n - 1);
    e[6].second = Value::integer(n);
    e[7].second = k > 0 ? items[size_t(k - 1)] : Value::undefined();
    e[8].second = k < n - 1 ? items[size_t(k + 1)] : Value::undefined();
    e[9].second = Value::integer(1);
    e[10].second = Value::integer(0);
    scope.vars["loop"] = loop;
    bind(scope, items[size_t(k)]);
    try {
      std::string piece = block(node.body, scope);
      pending.grow_to(out.size() + piece.size());
      out += piece;
    } catch (const ContinueSignal&) {
      continue;  // as in the reference, a continued iteration does not count for `else`
    } catch (const BreakSignal&) {
      break;
    }
    iterated = true;
  }
  if (!iterated) out += block(node.alt, scope);
  return Value::string(out);
}

void Interpreter::bind_arguments(const std::string& display_name, const std::vector<NodePtr>& params,
                                 const std::vector<NodePtr>& body, CallArgs& args, Env& scope) {
  std::vector<Value> positional = args.positional;
  auto keywords = args.keywords;
  std::vector<const Node*> pending_defaults;
  for (size_t k = 0; k < params.size(); ++k) {
    const Node& param = *params[k];
    std::optional<Value> value;
    if (k < positional.size()) value = positional[k];
    if (!value) {
      for (auto it = keywords.begin(); it != keywords.end(); ++it) {
        if (it->first != param.str) continue;
        value = it->second;
        keywords.erase(it);
        break;
      }
    }
    if (!value && param.kind == NodeKind::keyword_arg) pending_defaults.push_back(&param);
    scope.vars[param.str] = value.value_or(Value::undefined());
  }
  if (body_mentions(body, "kwargs")) {
    Value kwargs = heap_.object();
    for (auto& [key, value] : keywords) kwargs.obj->set(key, value);
    scope.vars["kwargs"] = kwargs;
  } else if (!keywords.empty()) {
    fail("macro " + display_name + " takes no keyword argument '" + keywords.front().first + "'");
  }
  if (body_mentions(body, "varargs")) {
    std::vector<Value> rest;
    for (size_t k = params.size(); k < positional.size(); ++k) rest.push_back(positional[k]);
    scope.vars["varargs"] = heap_.array(std::move(rest));
  } else if (positional.size() > params.size()) {
    fail("macro " + display_name + " takes not more than " + std::to_string(params.size()) + " argument(s)");
  }
  for (const Node* param : pending_defaults) scope.vars[param->str] = evaluate(*param->a, scope);
}

Value Interpreter::macro(const Node& node, Env& env) {
  env.vars[node.str] =
      heap_.function(node.str, [&node](Interpreter& interp, CallArgs& args, Env& caller_env) {
        Env scope(&caller_env);  // the reference scopes macros dynamically, in the caller's scope
        interp.bind_arguments("'" + node.str + "'", node.list, node.body, args, scope);
        return Value::string(interp.block(node.body, scope));
      });
  return Value::null();
}

Value Interpreter::call_block(const Node& node, Env& env) {
  // `caller` may escape its block (stored in a namespace); calling it afterwards must fail cleanly.
  auto alive = std::make_shared<bool>(true);
  Env* defining = &env;
  Value caller =
      heap_.function("caller", [&node, alive, defining](Interpreter& interp, CallArgs& args, Env&) {
        if (!*alive) fail("caller() used outside of its call block");
        Env scope(defining);
        interp.bind_arguments("None", node.list, node.body, args, scope);
        return Value::string(interp.block(node.body, scope));
      });
  struct Expire {
    std::shared_ptr<bool> flag;
    ~Expire() { *flag = false; }
  } expire{alive};
  CallArgs args = evaluate_arguments(node.a->list, env);
  Value callee = evaluate(*node.a->a, env);
  Env call_env(&env);
  call_env.vars["caller"] = caller;
  return call(callee, args, call_env);
}

}  // namespace ortlm::tpl
