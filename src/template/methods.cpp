// Methods and properties reached with `object.name`: the Python str/dict/list methods templates
// call. Those @huggingface/jinja has behave exactly as there (e.g. its strip() ignores an argument);
// the others (marked extension) follow Python.
#include <algorithm>

#include "template/evaluator.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

const Value* arg(CallArgs& args, size_t index, const char* name) { return args.get(index, name); }

const std::string& string_arg(CallArgs& args, size_t index, const char* name, const char* method) {
  const Value* v = arg(args, index, name);
  if (!v || !v->is(Kind::string)) fail(std::string(method) + "() argument '" + name + "' must be a string");
  return v->s;
}

int64_t int_arg(CallArgs& args, size_t index, const char* name, int64_t fallback) {
  const Value* v = arg(args, index, name);
  if (!v || v->is(Kind::null)) return fallback;
  if (!v->is(Kind::integer)) fail(std::string("argument '") + name + "' must be an integer");
  return v->i;
}

Value strings(Interpreter& interp, std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& p : parts) items.push_back(Value::string(std::move(p)));
  return interp.heap().array(std::move(items));
}

std::vector<std::string> split_on(const std::string& s, const std::string& sep) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t hit; (hit = s.find(sep, start)) != std::string::npos; start = hit + sep.size())
    parts.push_back(s.substr(start, hit - start));
  parts.push_back(s.substr(start));
  return parts;
}

std::string join(const std::vector<std::string>& parts, size_t from, size_t to, const std::string& sep) {
  std::string out;
  for (size_t k = from; k < to; ++k) out += (k > from ? sep : "") + parts[k];
  return out;
}

bool affix_match(const Value& self, CallArgs& args, bool prefix, const char* method) {
  const Value* p = arg(args, 0, "prefix");
  if (!p) fail(std::string(method) + "() requires at least one argument");
  auto match = [&](const std::string& s) { return prefix ? self.s.starts_with(s) : self.s.ends_with(s); };
  if (p->is(Kind::string)) return match(p->s);
  if (p->is(Kind::array)) {
    for (const auto& item : p->arr->items) {
      if (!item.is(Kind::string)) fail(std::string(method) + "() tuple elements must be strings");
      if (match(item.s)) return true;
    }
    return false;
  }
  fail(std::string(method) + "() argument must be a string or tuple of strings");
}

Value str_split(Interpreter& interp, const Value& self, CallArgs& args) {
  const Value* sep = arg(args, 0, "sep");
  int64_t maxsplit = int_arg(args, 1, "maxsplit", -1);
  std::vector<std::string> parts;
  if (!sep || sep->is(Kind::null)) {
    // Runs of whitespace separate; a trailing remainder keeps its whitespace.
    std::string rest = text::trim_start(self.s);
    while (!rest.empty()) {
      if (maxsplit != -1 && int64_t(parts.size()) >= maxsplit) {
        parts.push_back(rest);
        break;
      }
      size_t end = 0;
      while (end < rest.size()) {
        size_t p = end;
        if (text::is_js_space(utf8::decode(rest, p))) break;
        end = p;
      }
      parts.push_back(rest.substr(0, end));
      rest = text::trim_start(std::string_view(rest).substr(end));
    }
    return strings(interp, std::move(parts));
  }
  if (!sep->is(Kind::string)) fail("sep argument must be a string or null");
  if (sep->s.empty()) fail("empty separator");
  parts = split_on(self.s, sep->s);
  if (maxsplit != -1 && int64_t(parts.size()) > maxsplit) {
    int64_t n = int64_t(parts.size());
    size_t keep = size_t(maxsplit < 0 ? std::max<int64_t>(n + maxsplit, 0) : maxsplit);
    std::string rest = join(parts, keep, parts.size(), sep->s);
    parts.resize(keep);
    parts.push_back(rest);
  }
  return strings(interp, std::move(parts));
}

// Extension: Python's str.rsplit.
Value str_rsplit(Interpreter& interp, const Value& self, CallArgs& args) {
  const Value* sep = arg(args, 0, "sep");
  int64_t maxsplit = int_arg(args, 1, "maxsplit", -1);
  if (!sep || sep->is(Kind::null) || maxsplit < 0) return str_split(interp, self, args);
  if (!sep->is(Kind::string) || sep->s.empty()) fail("rsplit() separator must be a non-empty string");
  std::vector<std::string> parts = split_on(self.s, sep->s);
  if (int64_t(parts.size()) > maxsplit + 1) {
    size_t merged = parts.size() - size_t(maxsplit);
    std::string head = join(parts, 0, merged, sep->s);
    parts.erase(parts.begin(), parts.begin() + std::ptrdiff_t(merged));
    parts.insert(parts.begin(), head);
  }
  return strings(interp, std::move(parts));
}

// The reference's replace(old, new, count): an empty `old` inserts between code points.
Value str_replace(Interpreter& interp, const Value& self, CallArgs& args) {
  if (args.positional.size() + args.keywords.size() < 2) fail("replace() requires at least two arguments");
  const Value* from = arg(args, 0, "old");
  const Value* to = arg(args, 1, "new");
  if (!from || !to || !from->is(Kind::string) || !to->is(Kind::string))
    fail("replace() arguments must be strings");
  int64_t count = int_arg(args, 2, "count", -1);
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (from->s.empty()) {
    auto cps = text::code_points(self.s);
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (int64_t(k) < count) out += to->s;
      if (k < cps.size()) out += cps[k];
      interp.check_size(out.size());
    }
    return Value::string(out);
  }
  size_t start = 0;
  for (size_t hit; count > 0 && (hit = self.s.find(from->s, start)) != std::string::npos; --count) {
    out.append(self.s, start, hit - start);
    out += to->s;
    start = hit + from->s.size();
    interp.check_size(out.size());
  }
  out.append(self.s, start);
  return Value::string(out);
}

// Extension: Python's str.format with {} / {0} / {name} fields.
Value str_format(Interpreter& interp, const Value& self, CallArgs& args) {
  std::string out;
  size_t next_auto = 0;
  for (size_t k = 0; k < self.s.size(); ++k) {
    char c = self.s[k];
    if ((c == '{' || c == '}') && k + 1 < self.s.size() && self.s[k + 1] == c) {
      out += c;
      ++k;
      continue;
    }
    if (c != '{') {
      out += c;
      continue;
    }
    size_t close = self.s.find('}', k);
    if (close == std::string::npos) fail("Single '{' encountered in format string");
    std::string field = self.s.substr(k + 1, close - k - 1);
    const Value* v = nullptr;
    if (field.empty()) {
      v = next_auto < args.positional.size() ? &args.positional[next_auto++] : nullptr;
    } else if (std::all_of(field.begin(), field.end(), ::isdigit)) {
      size_t index = std::stoul(field.substr(0, 9));
      v = index < args.positional.size() ? &args.positional[index] : nullptr;
    } else {
      v = args.keyword(field);
    }
    if (!v) fail("format(): no value for field '" + field + "'");
    out += to_output(*v);
    interp.check_size(out.size());
    k = close;
  }
  return Value::string(out);
}

Value str_find(Interpreter&, const Value& self, CallArgs& args) {
  size_t hit = self.s.find(string_arg(args, 0, "sub", "find"));
  if (hit == std::string::npos) return Value::integer(-1);
  return Value::integer(int64_t(text::js_length(std::string_view(self.s).substr(0, hit))));
}

Value str_count(Interpreter&, const Value& self, CallArgs& args) {
  const std::string& sub = string_arg(args, 0, "sub", "count");
  if (sub.empty()) return Value::integer(int64_t(utf8::count_chars(self.s) + 1));
  int64_t n = 0;
  for (size_t at = self.s.find(sub); at != std::string::npos; at = self.s.find(sub, at + sub.size())) ++n;
  return Value::integer(n);
}

template <int (*Pred)(int)>
Value str_all(Interpreter&, const Value& self, CallArgs&) {
  bool ok = !self.s.empty();
  for (char c : self.s) ok = ok && Pred(static_cast<unsigned char>(c));
  return Value::boolean(ok);
}

Value str_method(Interpreter& interp, const Value& self, const std::string& name, CallArgs& args) {
  const std::string& s = self.s;
  if (name == "upper") return Value::string(text::to_upper(s));
  if (name == "lower") return Value::string(text::to_lower(s));
  if (name == "strip") return Value::string(text::trim(s));
  if (name == "lstrip") return Value::string(text::trim_start(s));
  if (name == "rstrip") return Value::string(text::trim_end(s));
  if (name == "title") return Value::string(text::title_case(s));
  if (name == "capitalize") return Value::string(text::capitalize(s));
  if (name == "startswith") return Value::boolean(affix_match(self, args, true, "startswith"));
  if (name == "endswith") return Value::boolean(affix_match(self, args, false, "endswith"));
  if (name == "split") return str_split(interp, self, args);
  if (name == "rsplit") return str_rsplit(interp, self, args);
  if (name == "replace") return str_replace(interp, self, args);
  if (name == "format") return str_format(interp, self, args);
  if (name == "find") return str_find(interp, self, args);
  if (name == "count") return str_count(interp, self, args);
  if (name == "isdigit") return str_all<::isdigit>(interp, self, args);
  if (name == "isalpha") return str_all<::isalpha>(interp, self, args);
  if (name == "isalnum") return str_all<::isalnum>(interp, self, args);
  if (name == "isspace") return str_all<::isspace>(interp, self, args);
  if (name == "islower") return Value::boolean(s != text::to_upper(s) && s == text::to_lower(s));
  if (name == "isupper") return Value::boolean(s != text::to_lower(s) && s == text::to_upper(s));
  if (name == "removeprefix" || name == "removesuffix") {
    const std::string& affix = string_arg(args, 0, "prefix", name.c_str());
    bool prefix = name == "removeprefix";
    if (prefix ? s.starts_with(affix) : s.ends_with(affix))
      return Value::string(prefix ? s.substr(affix.size()) : s.substr(0, s.size() - affix.size()));
    return self;
  }
  if (name == "join") {
    const Value* items = arg(args, 0, "iterable");
    if (!items || !items->is(Kind::array)) fail("join() argument must be a list");
    std::string out;
    for (size_t k = 0; k < items->arr->items.size(); ++k) {
      out += (k ? s : "") + to_js_string(items->arr->items[k]);
      interp.check_size(out.size());
    }
    return Value::string(out);
  }
  if (name == "splitlines") {
    std::vector<std::string> lines = split_on(s, "\n");
    if (!lines.empty() && lines.back().empty()) lines.pop_back();
    for (auto& line : lines)
      if (!line.empty() && line.back() == '\r') line.pop_back();
    return strings(interp, std::move(lines));
  }
  return Value::undefined();
}

Value list_method(Interpreter& interp, const Value& self, const std::string& name, CallArgs& args) {
  auto& items = self.arr->items;
  auto index_of = [&](const Value& x) -> int64_t {
    for (size_t k = 0; k < items.size(); ++k)
      if (strict_equals(items[k], x)) return int64_t(k);
    return -1;
  };
  if (name == "append") {
    const Value* v = arg(args, 0, "object");
    if (!v) fail("append() takes exactly one argument");
    items.push_back(*v);
    return Value::null();
  }
  if (name == "extend") {
    const Value* v = arg(args, 0, "iterable");
    if (!v || !v->is(Kind::array)) fail("extend() argument must be a list");
    std::vector<Value> copy = v->arr->items;
    items.insert(items.end(), copy.begin(), copy.end());
    return Value::null();
  }
  if (name == "insert") {
    int64_t n = int64_t(items.size()), at = int_arg(args, 0, "index", 0);
    const Value* v = arg(args, 1, "object");
    if (!v) fail("insert() takes exactly two arguments");
    at = std::clamp<int64_t>(at < 0 ? at + n : at, 0, n);
    items.insert(items.begin() + at, *v);
    return Value::null();
  }
  if (name == "pop") {
    if (items.empty()) fail("pop from empty list");
    int64_t n = int64_t(items.size()), at = int_arg(args, 0, "index", -1);
    if (at < 0) at += n;
    if (at < 0 || at >= n) fail("pop index out of range");
    Value v = items[size_t(at)];
    items.erase(items.begin() + at);
    return v;
  }
  if (name == "index") {
    const Value* v = arg(args, 0, "value");
    int64_t k = v ? index_of(*v) : -1;
    if (k < 0) fail("value is not in list");
    return Value::integer(k);
  }
  if (name == "count") {
    const Value* v = arg(args, 0, "value");
    int64_t n = 0;
    for (const auto& item : items) n += v && strict_equals(item, *v);
    return Value::integer(n);
  }
  if (name == "copy") return interp.heap().array(items);
  if (name == "reverse") {
    std::reverse(items.begin(), items.end());
    return Value::null();
  }
  return Value::undefined();
}

Value dict_method(Interpreter& interp, const Value& self, const std::string& name, CallArgs& args) {
  ObjectData& obj = *self.obj;
  auto pairs = [&](bool keys, bool values) {
    std::vector<Value> out;
    for (const auto& [k, v] : obj.entries) {
      if (keys && values)
        out.push_back(interp.heap().array({Value::string(k), v}));
      else
        out.push_back(keys ? Value::string(k) : v);
    }
    return interp.heap().array(std::move(out));
  };
  if (name == "get") {
    const Value* key = arg(args, 0, "key");
    if (!key || !key->is(Kind::string))
      fail(std::string("Object key must be a string: got ") + kind_name(key ? key->kind : Kind::undefined));
    if (const Value* found = obj.find(key->s)) return *found;
    const Value* fallback = arg(args, 1, "default");
    return fallback ? *fallback : Value::null();
  }
  if (name == "items") return pairs(true, true);
  if (name == "keys") return pairs(true, false);
  if (name == "values") return pairs(false, true);
  if (name == "dictsort") {
    const Value* case_sensitive = arg(args, 0, "case_sensitive");
    const Value* by = arg(args, 1, "by");
    const Value* reverse = arg(args, 2, "reverse");
    if (case_sensitive && !case_sensitive->is(Kind::boolean)) fail("case_sensitive must be a boolean");
    if (by && (!by->is(Kind::string) || (by->s != "key" && by->s != "value")))
      fail("by must be either 'key' or 'value'");
    if (reverse && !reverse->is(Kind::boolean)) fail("reverse must be a boolean");
    size_t index = by && by->s == "value" ? 1 : 0;
    bool cs = case_sensitive && case_sensitive->b, rev = reverse && reverse->b;
    Value sorted = pairs(true, true);
    std::stable_sort(sorted.arr->items.begin(), sorted.arr->items.end(), [&](const Value& a, const Value& b) {
      int c = compare_values(a.arr->items[index], b.arr->items[index], cs);
      return rev ? c > 0 : c < 0;
    });
    return sorted;
  }
  if (name == "update") {  // extension
    const Value* other = arg(args, 0, "other");
    if (other && other->is_mapping())
      for (const auto& [k, v] : other->obj->entries) obj.set(k, v);
    for (const auto& [k, v] : args.keywords) obj.set(k, v);
    return Value::null();
  }
  if (name == "copy") {  // extension
    Value out = interp.heap().object();
    for (const auto& [k, v] : obj.entries) out.obj->set(k, v);
    return out;
  }
  if (name == "pop") {  // extension
    const std::string& key = string_arg(args, 0, "key", "pop");
    if (const Value* found = obj.find(key)) {
      Value v = *found;
      obj.erase(key);
      return v;
    }
    if (const Value* fallback = arg(args, 1, "default")) return *fallback;
    fail("KeyError: '" + key + "'");
  }
  return Value::undefined();
}

bool is_method(Kind kind, const std::string& name) {
  static const std::vector<std::string> str = {
      "upper",        "lower",        "strip",   "lstrip",    "rstrip",  "title",   "capitalize",
      "startswith",   "endswith",     "split",   "rsplit",    "replace", "format",  "find",
      "count",        "isdigit",      "isalpha", "isalnum",   "isspace", "islower", "isupper",
      "removeprefix", "removesuffix", "join",    "splitlines"};
  static const std::vector<std::string> list = {"append", "extend", "insert", "pop",
                                                "index",  "count",  "copy",   "reverse"};
  static const std::vector<std::string> dict = {"get",      "items",  "keys", "values",
                                                "dictsort", "update", "copy", "pop"};
  const auto& names = kind == Kind::string ? str : kind == Kind::array ? list : dict;
  return std::find(names.begin(), names.end(), name) != names.end();
}

}  // namespace

std::optional<Value> call_builtin_method(Interpreter& interp, const Value& object, const std::string& name,
                                         CallArgs& args) {
  if (!object.is(Kind::string) && !object.is(Kind::array) && !object.is(Kind::object)) return std::nullopt;
  if (!is_method(object.kind, name)) return std::nullopt;
  if (object.is(Kind::string)) return str_method(interp, object, name, args);
  if (object.is(Kind::array)) return list_method(interp, object, name, args);
  return dict_method(interp, object, name, args);
}

Value builtin_member(Interpreter& interp, const Value& object, const std::string& name) {
  if (object.is(Kind::string) && name == "length") return Value::integer(int64_t(text::js_length(object.s)));
  if (object.is(Kind::array) && name == "length") return Value::integer(int64_t(object.arr->items.size()));
  if (!object.is(Kind::string) && !object.is(Kind::array) && !object.is(Kind::object))
    return Value::undefined();
  if (!is_method(object.kind, name)) return Value::undefined();
  // A bound method (e.g. stored with `set f = s.upper`); calls written `s.upper()` skip this.
  return interp.heap().function(name, [object, name](Interpreter& in, CallArgs& args, Env&) {
    return *call_builtin_method(in, object, name, args);
  });
}

}  // namespace ortlm::tpl
