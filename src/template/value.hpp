#pragma once
// Runtime values of the template engine. Containers live in a per-render Heap and are shared by
// reference (as in @huggingface/jinja, whose semantics we follow), so aliasing and identity behave
// like JavaScript objects and cyclic structures cannot leak.
#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ortlm::tpl {

// A runtime failure without a position yet; the evaluator attaches the position of the innermost
// node being evaluated.
struct RenderError {
  std::string message;
  int64_t pos = -1;  // offset in the original template source, -1 = not known yet
};
[[noreturn]] void fail(std::string message);

enum class Kind : uint8_t {
  undefined,
  null,
  boolean,
  integer,
  floating,
  string,
  array,
  object,
  ns,
  function
};
const char* kind_name(Kind kind);  // e.g. "StringValue", as @huggingface/jinja names them

struct ArrayData;
struct ObjectData;
struct FunctionData;

// The data of a value; Value adds its memory accounting (template/memory.hpp).
struct ValueFields {
  Kind kind = Kind::undefined;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  std::string s;
  ArrayData* arr = nullptr;
  ObjectData* obj = nullptr;  // objects and namespaces
  FunctionData* fn = nullptr;
};

struct Value : ValueFields {
  Value() { hold(sizeof(Value)); }
  Value(const Value& other) : ValueFields(other) { hold(footprint()); }
  Value(Value&& other) noexcept : ValueFields(std::move(other)), held_(std::exchange(other.held_, 0)) {}
  Value& operator=(const Value& other);
  Value& operator=(Value&& other) noexcept;
  ~Value() {
    if (held_) release();
  }

  static Value undefined() { return {}; }
  static Value null() { return make(Kind::null); }
  static Value boolean(bool v);
  static Value integer(int64_t v);
  static Value floating(double v);
  static Value string(std::string v);

  bool is(Kind k) const { return kind == k; }
  bool is_number() const { return kind == Kind::integer || kind == Kind::floating; }
  bool is_none() const { return kind == Kind::null || kind == Kind::undefined; }
  bool is_mapping() const { return kind == Kind::object || kind == Kind::ns; }
  double number() const {
    return kind == Kind::floating ? f : kind == Kind::boolean ? (b ? 1 : 0) : double(i);
  }

 private:
  size_t held_ = 0;  // bytes charged to the render's budget for this value

  static Value make(Kind k) {
    Value v;
    v.kind = k;
    return v;
  }
  // Its size plus its string's heap block.
  size_t footprint() const;
  // Charges or releases the difference to `bytes` held; fails when over the budget.
  void hold(size_t bytes);
  void release() noexcept;
};

struct ArrayData {
  std::vector<Value> items;
  bool tuple = false;
};

// An insertion-ordered string-keyed map (JavaScript Map semantics).
struct ObjectData {
  std::vector<std::pair<std::string, Value>> entries;
  std::unordered_map<std::string, size_t> index;

  const Value* find(const std::string& key) const;
  void set(const std::string& key, Value value);
  bool erase(const std::string& key);
};

// Positional and keyword arguments of a call.
struct CallArgs {
  std::vector<Value> positional;
  std::vector<std::pair<std::string, Value>> keywords;

  // The argument at `index` or named `name`, or null when neither was given.
  const Value* get(size_t index, std::string_view name) const;
  const Value* keyword(std::string_view name) const;
};

class Interpreter;
struct Env;
using NativeFunction = std::function<Value(Interpreter&, CallArgs&, Env&)>;

struct FunctionData {
  std::string name;
  NativeFunction call;
};

// Owns every container created during one render (their elements are charged to the render's
// memory budget as values, the containers themselves when made).
class Heap {
 public:
  Value array(std::vector<Value> items = {}, bool tuple = false);
  Value object(Kind kind = Kind::object);
  Value function(std::string name, NativeFunction call);

 private:
  std::deque<ArrayData> arrays_;
  std::deque<ObjectData> objects_;
  std::deque<FunctionData> functions_;
};

// Python truthiness as @huggingface/jinja implements it.
bool truthy(const Value& v);
// `{{ value }}` text: integers plainly, floats with ".0", booleans as true/false, containers as JSON.
std::string to_output(const Value& v);
// JavaScript's String(value.value): used by `~`, `+` with a string and `join`.
std::string to_js_string(const Value& v);
// JavaScript `==` on the raw values (loose equality; containers by identity).
bool loose_equals(const Value& a, const Value& b);
// JavaScript `===` on the raw values (membership tests, unique).
bool strict_equals(const Value& a, const Value& b);
// JavaScript Number.prototype.toString.
std::string js_number(double v);

}  // namespace ortlm::tpl
