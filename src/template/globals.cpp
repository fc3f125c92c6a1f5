// Global names every template sees: constants and the functions Hugging Face provides.
#include <ctime>

#include "template/evaluator.hpp"

namespace ortlm::tpl {

namespace {

Value range(Interpreter& interp, CallArgs& args, Env&) {
  std::vector<int64_t> bounds;
  for (const auto& v : args.positional) {
    if (!v.is(Kind::integer))
      fail(std::string("range() arguments must be integers, got ") + kind_name(v.kind));
    bounds.push_back(v.i);
  }
  if (bounds.empty() || bounds.size() > 3) fail("range() expects 1 to 3 arguments");
  int64_t start = bounds.size() == 1 ? 0 : bounds[0];
  int64_t stop = bounds.size() == 1 ? bounds[0] : bounds[1];
  int64_t step = bounds.size() == 3 ? bounds[2] : 1;
  if (step == 0) fail("range() step must not be zero");
  // Count first so that a huge range fails before allocating.
  __int128 span = step > 0 ? __int128(stop) - start : __int128(start) - stop;
  __int128 count =
      span <= 0 ? 0 : (span + (step > 0 ? step : -__int128(step)) - 1) / (step > 0 ? step : -__int128(step));
  if (count > __int128(interp.limits().max_range))
    fail("range() of " + std::to_string(int64_t(std::min<__int128>(count, INT64_MAX))) +
         " elements exceeds the limit of " + std::to_string(interp.limits().max_range));
  std::vector<Value> items;
  for (__int128 k = 0, v = start; k < count; ++k, v += step) items.push_back(Value::integer(int64_t(v)));
  return interp.heap().array(std::move(items));
}

Value make_namespace(Interpreter& interp, CallArgs& args, Env&) {
  if (args.positional.size() > 1)
    fail("namespace expected at most 1 argument, got " + std::to_string(args.positional.size()));
  Value ns = interp.heap().object(Kind::ns);
  if (args.positional.size() == 1) {
    const Value& source = args.positional[0];
    if (source.is(Kind::object)) {
      for (const auto& [key, value] : source.obj->entries) ns.obj->set(key, value);
    } else if (source.is(Kind::array)) {
      for (const auto& pair : source.arr->items) {
        if (!pair.is(Kind::array) || pair.arr->items.size() != 2)
          fail("namespace expected an object or an iterable of [key, value] pairs");
        if (!pair.arr->items[0].is(Kind::string)) fail("namespace keys must be strings");
        ns.obj->set(pair.arr->items[0].s, pair.arr->items[1]);
      }
    } else {
      fail(std::string("'") + kind_name(source.kind) + "' object is not iterable");
    }
  }
  for (const auto& [key, value] : args.keywords) ns.obj->set(key, value);
  return ns;
}

Value raise_exception(Interpreter&, CallArgs& args, Env&) {
  fail(args.positional.empty() ? std::string("undefined") : to_js_string(args.positional[0]));
}

// The reference's strftime: %Y %m %d %b %B %H %M %% in local time; other directives stay as written.
Value strftime_now(Interpreter&, CallArgs& args, Env&) {
  if (args.positional.empty() || !args.positional[0].is(Kind::string))
    fail("strftime_now() needs a format string");
  static const char* months[] = {"January", "February", "March",     "April",   "May",      "June",
                                 "July",    "August",   "September", "October", "November", "December"};
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  localtime_r(&now, &tm);
  auto pad2 = [](int n) { return (n < 10 ? "0" : "") + std::to_string(n); };
  const std::string& format = args.positional[0].s;
  std::string out;
  for (size_t k = 0; k < format.size(); ++k) {
    if (format[k] != '%' || k + 1 >= format.size()) {
      out += format[k];
      continue;
    }
    char d = format[k + 1];
    switch (d) {
      case 'Y':
        out += std::to_string(tm.tm_year + 1900);
        break;
      case 'm':
        out += pad2(tm.tm_mon + 1);
        break;
      case 'd':
        out += pad2(tm.tm_mday);
        break;
      case 'b':
        out += std::string(months[tm.tm_mon]).substr(0, 3);
        break;
      case 'B':
        out += months[tm.tm_mon];
        break;
      case 'H':
        out += pad2(tm.tm_hour);
        break;
      case 'M':
        out += pad2(tm.tm_min);
        break;
      case '%':
        out += '%';
        break;
      default:
        out += format.substr(k, 2);
    }
    ++k;
  }
  return Value::string(out);
}

}  // namespace

void install_globals(Interpreter& interp, Env& env) {
  Heap& heap = interp.heap();
  env.vars["namespace"] = heap.function("namespace", make_namespace);
  for (const char* name : {"false", "False"}) env.vars[name] = Value::boolean(false);
  for (const char* name : {"true", "True"}) env.vars[name] = Value::boolean(true);
  for (const char* name : {"none", "None"}) env.vars[name] = Value::null();
  env.vars["raise_exception"] = heap.function("raise_exception", raise_exception);
  env.vars["range"] = heap.function("range", range);
  env.vars["strftime_now"] = heap.function("strftime_now", strftime_now);
}

}  // namespace ortlm::tpl
