// Member access, indexing, slicing and method calls (`object.name`, `object[k]`, `object[a:b:c]`,
// `object.method(args)`), with @huggingface/jinja's semantics.
#include <algorithm>

#include "template/evaluator.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

// The UTF-16 unit at `index` (negative counts from the end), as JavaScript's string.at(); found by
// scanning, so that indexing a long string allocates nothing.
std::optional<std::string> js_char_at(const std::string& s, int64_t index) {
  int64_t n = int64_t(text::js_length(s));
  if (index < 0) index += n;
  if (index < 0 || index >= n) return std::nullopt;
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp = utf8::decode(s, pos);
    int64_t units = cp >= 0x10000 ? 2 : 1;
    if (index < units)
      return utf8::encode(units == 2 ? 0xFFFD : cp);  // Node prints a lone surrogate as U+FFFD
    index -= units;
  }
  return std::nullopt;
}

// Python's slice bounds as @huggingface/jinja computes them for `n` items: the first index and the
// end (exclusive in the step's direction).
std::pair<int64_t, int64_t> slice_bounds(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop,
                                         int64_t step) {
  if (step >= 0)
    return {!start       ? 0
            : *start < 0 ? std::max<int64_t>(n + *start, 0)
                         : std::min(*start, n),
            !stop       ? n
            : *stop < 0 ? std::max<int64_t>(n + *stop, 0)
                        : std::min(*stop, n)};
  return {!start       ? n - 1
          : *start < 0 ? std::max<int64_t>(n + *start, -1)
                       : std::min(*start, n - 1),
          !stop        ? -1
          : *stop < -1 ? std::max<int64_t>(n + *stop, -1)
                       : std::min(*stop, n - 1)};
}

// Calls `visit(k)` for each index of the slice; a step near the integer limits ends the walk.
template <typename Visit>
void for_each_in_slice(int64_t n, std::optional<int64_t> start, std::optional<int64_t> stop, int64_t step,
                       Visit visit) {
  if (step == 0) return;
  auto [first, end] = slice_bounds(n, start, stop, step);
  for (int64_t k = first; step > 0 ? k < end : k > end;) {
    visit(size_t(k));
    if (__builtin_add_overflow(k, step, &k)) break;
  }
}

}  // namespace

Value Interpreter::member(const Node& node, Env& env) {
  Value object = evaluate(*node.a, env);
  if (node.flag) {
    if (node.b->kind == NodeKind::slice) return slice(object, *node.b, env);
    return property(object, evaluate(*node.b, env));
  }
  if (node.b->kind == NodeKind::integer) return property(object, Value::integer(node.b->ival));
  return property(object, Value::string(node.b->str));
}

Value Interpreter::property(const Value& object, const Value& property) {
  if (object.is_mapping()) {
    if (!property.is(Kind::string))
      fail(std::string("Cannot access property with non-string: got ") + kind_name(property.kind));
    if (const Value* found = object.obj->find(property.s)) return *found;
    return object.is(Kind::object) ? builtin_member(*this, object, property.s) : Value::undefined();
  }
  if (object.is(Kind::array) || object.is(Kind::string)) {
    if (property.is(Kind::integer)) {
      if (object.is(Kind::string)) {
        auto ch = js_char_at(object.s, property.i);
        return ch ? Value::string(*ch) : Value::undefined();
      }
      int64_t n = int64_t(object.arr->items.size()), k = property.i < 0 ? property.i + n : property.i;
      return k >= 0 && k < n ? object.arr->items[size_t(k)] : Value::undefined();
    }
    if (property.is(Kind::string)) return builtin_member(*this, object, property.s);
    fail(std::string("Cannot access property with non-string/non-number: got ") + kind_name(property.kind));
  }
  if (!property.is(Kind::string))
    fail(std::string("Cannot access property with non-string: got ") + kind_name(property.kind));
  return builtin_member(*this, object, property.s);
}

Value Interpreter::call_expression(const Node& node, Env& env) {
  CallArgs args = evaluate_arguments(node.list, env);
  const Node& target = *node.a;
  if (target.kind != NodeKind::member || target.flag || target.b->kind == NodeKind::integer) {
    Value callee = evaluate(target, env);
    return call(callee, args, env);
  }
  // `object.method(args)` is called directly: a bound-method value would stay in the heap (with a
  // copy of its object) until the render ends, which adds up in loops.
  Value object = evaluate(*target.a, env);
  const std::string& name = target.b->str;
  if (!(object.is_mapping() && object.obj->find(name)))
    if (auto result = call_builtin_method(*this, object, name, args)) return std::move(*result);
  Value callee = property(object, Value::string(name));
  return call(callee, args, env);
}

Value Interpreter::slice(const Value& object, const Node& node, Env& env) {
  if (!object.is(Kind::array) && !object.is(Kind::string)) fail("Slice object must be an array or string");
  auto bound = [&](const NodePtr& part, const char* what) -> std::optional<int64_t> {
    if (!part) return std::nullopt;
    Value v = evaluate(*part, env);
    if (v.is(Kind::undefined)) return std::nullopt;
    if (!v.is(Kind::integer)) fail(std::string("Slice ") + what + " must be numeric or undefined");
    return v.i;
  };
  auto start = bound(node.a, "start"), stop = bound(node.b, "stop");
  int64_t step = bound(node.c, "step").value_or(1);
  if (object.is(Kind::array)) {
    const auto& items = object.arr->items;
    std::vector<Value> out;
    for_each_in_slice(int64_t(items.size()), start, stop, step, [&](size_t k) { out.push_back(items[k]); });
    return heap_.array(std::move(out));
  }
  // Strings slice by code point: the offset where each one starts, then the pieces.
  const std::string& s = object.s;
  check_headroom(s.size() * sizeof(size_t));
  std::vector<size_t> starts;
  for (size_t pos = 0; pos < s.size(); utf8::decode(s, pos)) starts.push_back(pos);
  starts.push_back(s.size());
  std::string out;
  for_each_in_slice(int64_t(starts.size() - 1), start, stop, step,
                    [&](size_t k) { out.append(s, starts[k], starts[k + 1] - starts[k]); });
  return Value::string(std::move(out));
}

}  // namespace ortlm::tpl
