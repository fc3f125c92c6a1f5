#include "template/value.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "template/json_format.hpp"
#include "template/memory.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

void fail(std::string message) { throw RenderError{std::move(message), -1}; }

const char* kind_name(Kind kind) {
  switch (kind) {
    case Kind::undefined:
      return "UndefinedValue";
    case Kind::null:
      return "NullValue";
    case Kind::boolean:
      return "BooleanValue";
    case Kind::integer:
      return "IntegerValue";
    case Kind::floating:
      return "FloatValue";
    case Kind::string:
      return "StringValue";
    case Kind::array:
      return "ArrayValue";
    case Kind::object:
      return "ObjectValue";
    case Kind::ns:
      return "NamespaceValue";
    case Kind::function:
      return "FunctionValue";
  }
  return "?";
}

Value Value::boolean(bool v) {
  Value out = make(Kind::boolean);
  out.b = v;
  return out;
}
Value Value::integer(int64_t v) {
  Value out = make(Kind::integer);
  out.i = v;
  return out;
}
Value Value::floating(double v) {
  Value out = make(Kind::floating);
  out.f = v;
  return out;
}
Value Value::string(std::string v) {
  Value out = make(Kind::string);
  out.s = std::move(v);
  out.hold(out.footprint());
  return out;
}

const Value* ObjectData::find(const std::string& key) const {
  auto it = index.find(key);
  return it == index.end() ? nullptr : &entries[it->second].second;
}

void ObjectData::set(const std::string& key, Value value) {
  auto it = index.find(key);
  if (it != index.end()) {
    entries[it->second].second = std::move(value);
    return;
  }
  // The key is stored twice (entry and index) outside any value: charge it with the index node.
  charge_memory(2 * key.size() + 64);
  index.emplace(key, entries.size());
  entries.emplace_back(key, std::move(value));
}

bool ObjectData::erase(const std::string& key) {
  auto it = index.find(key);
  if (it == index.end()) return false;
  entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(it->second));
  index.clear();
  for (size_t k = 0; k < entries.size(); ++k) index.emplace(entries[k].first, k);
  return true;
}

const Value* CallArgs::keyword(std::string_view name) const {
  for (const auto& [key, value] : keywords)
    if (key == name) return &value;
  return nullptr;
}

const Value* CallArgs::get(size_t index, std::string_view name) const {
  if (index < positional.size()) return &positional[index];
  return keyword(name);
}

Value Heap::array(std::vector<Value> items, bool tuple) {
  charge_memory(sizeof(ArrayData));
  arrays_.push_back(ArrayData{std::move(items), tuple});
  Value v;
  v.kind = Kind::array;
  v.arr = &arrays_.back();
  return v;
}

Value Heap::object(Kind kind) {
  charge_memory(sizeof(ObjectData));
  objects_.emplace_back();
  Value v;
  v.kind = kind;
  v.obj = &objects_.back();
  return v;
}

Value Heap::function(std::string name, NativeFunction call) {
  charge_memory(sizeof(FunctionData) + name.size());
  functions_.push_back(FunctionData{std::move(name), std::move(call)});
  Value v;
  v.kind = Kind::function;
  v.fn = &functions_.back();
  return v;
}

bool truthy(const Value& v) {
  switch (v.kind) {
    case Kind::undefined:
    case Kind::null:
      return false;
    case Kind::boolean:
      return v.b;
    case Kind::integer:
      return v.i != 0;
    case Kind::floating:
      return v.f != 0 && !std::isnan(v.f);
    case Kind::string:
      return !v.s.empty();
    case Kind::array:
      return !v.arr->items.empty();
    case Kind::object:
      return !v.obj->entries.empty();
    case Kind::ns:
    case Kind::function:
      return true;
  }
  return false;
}

std::string js_number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v < 0 ? "-Infinity" : "Infinity";
  if (v == 0) return "0";
  // Shortest round-trip digits, then laid out the way ECMAScript's Number::toString does.
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool negative = sci[0] == '-';
  if (negative) sci.erase(0, 1);
  size_t e = sci.find('e');
  std::string digits = sci.substr(0, e);
  int exponent = std::atoi(sci.c_str() + e + 1);
  if (digits.size() > 1) digits.erase(1, 1);  // drop the '.'
  int k = int(digits.size());
  int n = exponent + 1;  // position of the decimal point
  std::string out;
  if (k <= n && n <= 21) {
    out = digits + std::string(size_t(n - k), '0');
  } else if (0 < n && n <= 21) {
    out = digits.substr(0, size_t(n)) + "." + digits.substr(size_t(n));
  } else if (-6 < n && n <= 0) {
    out = "0." + std::string(size_t(-n), '0') + digits;
  } else {
    std::string exp = (n - 1 >= 0 ? "+" : "-") + std::to_string(std::abs(n - 1));
    out = digits.size() == 1 ? digits + "e" + exp : digits.substr(0, 1) + "." + digits.substr(1) + "e" + exp;
  }
  return negative ? "-" + out : out;
}

std::string to_output(const Value& v) {
  switch (v.kind) {
    case Kind::undefined:
    case Kind::null:
      return "";
    case Kind::boolean:
      return v.b ? "true" : "false";
    case Kind::integer:
      return std::to_string(v.i);
    case Kind::floating:
      if (v.f == 0 && std::signbit(v.f)) return "-0.0";
      if (std::isfinite(v.f) && std::floor(v.f) == v.f && std::fabs(v.f) < 1e21) return js_number(v.f) + ".0";
      return js_number(v.f);
    case Kind::string:
      return v.s;
    case Kind::array:
    case Kind::object:
    case Kind::ns:
      return to_json(v, JsonOptions{}, /*undefined_as_null=*/false);
    case Kind::function:
      return "function " + v.fn->name + "() { [native code] }";
  }
  return "";
}

std::string to_js_string(const Value& v) {
  switch (v.kind) {
    case Kind::undefined:
      return "undefined";
    case Kind::null:
      return "null";
    case Kind::floating:
      return js_number(v.f);
    case Kind::array: {
      // Array.prototype.toString joins the elements' own toString with ",".
      std::string out;
      for (size_t k = 0; k < v.arr->items.size(); ++k) {
        if (k) out += ',';
        out += to_output(v.arr->items[k]);
        check_string_size(out.size());
      }
      return out;
    }
    case Kind::object:
    case Kind::ns:
      return "[object Map]";
    default:
      return to_output(v);
  }
}

namespace {

// JavaScript's ToNumber for strings: whitespace-trimmed decimal (or empty -> 0), else NaN.
double js_to_number(const std::string& s) {
  std::string t = text::trim(s);
  if (t.empty()) return 0;
  if (t == "Infinity" || t == "+Infinity") return INFINITY;
  if (t == "-Infinity") return -INFINITY;
  if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X')) {
    char* end = nullptr;
    double r = double(std::strtoull(t.c_str() + 2, &end, 16));
    return *end ? NAN : r;
  }
  for (char c : t)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
          c == '-'))
      return NAN;
  char* end = nullptr;
  double r = std::strtod(t.c_str(), &end);
  return *end ? NAN : r;
}

bool is_container(const Value& v) {
  return v.kind == Kind::array || v.kind == Kind::object || v.kind == Kind::ns || v.kind == Kind::function;
}

bool same_container(const Value& a, const Value& b) {
  if (a.kind == Kind::array && b.kind == Kind::array) return a.arr == b.arr;
  if (a.is_mapping() && b.is_mapping()) return a.obj == b.obj;
  if (a.kind == Kind::function && b.kind == Kind::function) return a.fn == b.fn;
  return false;
}

}  // namespace

bool strict_equals(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.number() == b.number();
  if (a.kind != b.kind) return is_container(a) && is_container(b) && same_container(a, b);
  switch (a.kind) {
    case Kind::undefined:
    case Kind::null:
      return true;
    case Kind::boolean:
      return a.b == b.b;
    case Kind::string:
      return a.s == b.s;
    default:
      return same_container(a, b);
  }
}

bool loose_equals(const Value& a, const Value& b) {
  if (a.kind == b.kind || (a.is_number() && b.is_number())) return strict_equals(a, b);
  if (a.is_none() || b.is_none()) return a.is_none() && b.is_none();
  if (a.kind == Kind::boolean) return loose_equals(Value::integer(a.b ? 1 : 0), b);
  if (b.kind == Kind::boolean) return loose_equals(a, Value::integer(b.b ? 1 : 0));
  if (a.is_number() && b.kind == Kind::string) return a.number() == js_to_number(b.s);
  if (a.kind == Kind::string && b.is_number()) return js_to_number(a.s) == b.number();
  if (is_container(a) && is_container(b)) return same_container(a, b);
  // A container against a primitive: JavaScript compares the container's string form.
  const Value& box = is_container(a) ? a : b;
  const Value& prim = is_container(a) ? b : a;
  if (box.kind == Kind::function) return false;
  return loose_equals(Value::string(to_js_string(box)), prim);
}

}  // namespace ortlm::tpl
