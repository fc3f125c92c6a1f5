// Jinja tests (`x is defined`, `n is divisibleby(3)`), as @huggingface/jinja defines them; tests
// with arguments are an extension (the reference cannot parse them outside selectattr/rejectattr).
#include <cmath>
#include <functional>
#include <unordered_map>

#include "template/evaluator.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

using TestFn = std::function<bool(const Value&, const std::vector<Value>&)>;

const Value& arg(const std::vector<Value>& args, const char* test) {
  if (args.empty()) fail(std::string("test '") + test + "' needs an argument");
  return args[0];
}

double number_arg(const std::vector<Value>& args, const char* test) {
  const Value& v = arg(args, test);
  if (!v.is_number()) fail(std::string("test '") + test + "' needs a number");
  return v.number();
}

bool less(const Value& a, const Value& b) {
  if (a.is_number() && b.is_number()) return a.number() < b.number();
  if (a.is(Kind::string) && b.is(Kind::string)) return a.s < b.s;
  fail(std::string("Cannot compare ") + kind_name(a.kind) + " with " + kind_name(b.kind));
}

bool contains(const Value& container, const Value& item) {
  if (container.is(Kind::array)) {
    for (const auto& x : container.arr->items)
      if (strict_equals(x, item)) return true;
    return false;
  }
  if (container.is(Kind::string) && item.is(Kind::string))
    return container.s.find(item.s) != std::string::npos;
  if (container.is_mapping() && item.is(Kind::string)) return container.obj->find(item.s) != nullptr;
  fail(std::string("Cannot test membership in ") + kind_name(container.kind));
}

const std::unordered_map<std::string, TestFn>& registry() {
  static const std::unordered_map<std::string, TestFn> tests = [] {
    std::unordered_map<std::string, TestFn> t;
    t["boolean"] = [](const Value& v, auto&) { return v.is(Kind::boolean); };
    t["callable"] = [](const Value& v, auto&) { return v.is(Kind::function); };
    t["odd"] = [](const Value& v, auto&) {
      if (!v.is(Kind::integer)) fail(std::string("cannot odd on ") + kind_name(v.kind));
      return v.i % 2 != 0;
    };
    t["even"] = [](const Value& v, auto&) {
      if (!v.is(Kind::integer)) fail(std::string("cannot even on ") + kind_name(v.kind));
      return v.i % 2 == 0;
    };
    t["false"] = [](const Value& v, auto&) { return v.is(Kind::boolean) && !v.b; };
    t["true"] = [](const Value& v, auto&) { return v.is(Kind::boolean) && v.b; };
    t["none"] = [](const Value& v, auto&) { return v.is(Kind::null); };
    t["string"] = [](const Value& v, auto&) { return v.is(Kind::string); };
    t["number"] = [](const Value& v, auto&) { return v.is_number(); };
    t["integer"] = [](const Value& v, auto&) { return v.is(Kind::integer); };
    t["float"] = [](const Value& v, auto&) { return v.is(Kind::floating); };
    t["iterable"] = [](const Value& v, auto&) { return v.is(Kind::array) || v.is(Kind::string); };
    t["mapping"] = [](const Value& v, auto&) { return v.is(Kind::object); };
    t["sequence"] = [](const Value& v, auto&) {
      return v.is(Kind::array) || v.is(Kind::object) || v.is(Kind::string);
    };
    t["lower"] = [](const Value& v, auto&) { return v.is(Kind::string) && v.s == text::to_lower(v.s); };
    t["upper"] = [](const Value& v, auto&) { return v.is(Kind::string) && v.s == text::to_upper(v.s); };
    t["defined"] = [](const Value& v, auto&) { return !v.is(Kind::undefined); };
    t["undefined"] = [](const Value& v, auto&) { return v.is(Kind::undefined); };
    // The reference compares raw values strictly (===) here.
    TestFn equal = [](const Value& v, const std::vector<Value>& a) {
      return strict_equals(v, a.empty() ? Value::undefined() : a[0]);
    };
    t["equalto"] = t["eq"] = t["=="] = t["sameas"] = equal;
    t["ne"] = t["!="] = [equal](const Value& v, auto& a) { return !equal(v, a); };
    t["lt"] = t["lessthan"] = t["<"] = [](const Value& v, auto& a) { return less(v, arg(a, "lt")); };
    t["gt"] = t["greaterthan"] = t[">"] = [](const Value& v, auto& a) { return less(arg(a, "gt"), v); };
    t["le"] = t["<="] = [](const Value& v, auto& a) { return !less(arg(a, "le"), v); };
    t["ge"] = t[">="] = [](const Value& v, auto& a) { return !less(v, arg(a, "ge")); };
    t["divisibleby"] = [](const Value& v, auto& a) {
      double d = number_arg(a, "divisibleby");
      if (!v.is_number() || d == 0) return false;
      return std::fmod(v.number(), d) == 0;
    };
    t["in"] = [](const Value& v, auto& a) { return contains(arg(a, "in"), v); };
    t["startingwith"] = [](const Value& v, auto& a) {
      const Value& p = arg(a, "startingwith");
      return v.is(Kind::string) && p.is(Kind::string) && v.s.starts_with(p.s);
    };
    t["endingwith"] = [](const Value& v, auto& a) {
      const Value& p = arg(a, "endingwith");
      return v.is(Kind::string) && p.is(Kind::string) && v.s.ends_with(p.s);
    };
    t["escaped"] = [](const Value&, auto&) { return false; };
    return t;
  }();
  return tests;
}

}  // namespace

bool has_test(const std::string& name) { return registry().count(name) != 0; }

bool apply_test(const std::string& name, const Value& operand, const std::vector<Value>& args) {
  auto it = registry().find(name);
  if (it == registry().end()) fail("Unknown test: " + name);
  return it->second(operand, args);
}

}  // namespace ortlm::tpl
