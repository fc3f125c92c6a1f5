// Filters (`value | name(args)`). Those @huggingface/jinja implements behave exactly as there,
// including its argument handling; the others (marked extension) follow Python Jinja.
#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "template/evaluator.hpp"
#include "template/json_format.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

bool is_numeric_like(const Value& v) { return v.is_number() || v.is(Kind::boolean); }

// The nested attribute "a.b.0" of an item, or undefined.
Value attribute_path(const Value& item, const std::string& path) {
  Value v = item;
  size_t start = 0;
  while (true) {
    size_t dot = path.find('.', start);
    std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (v.is_mapping()) {
      const Value* found = v.obj->find(part);
      v = found ? *found : Value::undefined();
    } else if (v.is(Kind::array)) {
      char* end = nullptr;
      long long index = std::strtoll(part.c_str(), &end, 10);
      if (end == part.c_str() || index < 0 || size_t(index) >= v.arr->items.size()) return Value::undefined();
      v = v.arr->items[size_t(index)];
    } else {
      return Value::undefined();
    }
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// The string an array element contributes to join(): null and undefined contribute nothing.
std::string join_piece(const Value& v) { return v.is_none() ? "" : to_js_string(v); }

const Value* flag_arg(CallArgs& args, size_t index, const char* name) {
  const Value* v = args.get(index, name);
  if (v && !v->is(Kind::boolean)) fail(std::string(name) + " must be a boolean");
  return v;
}

class Filters {
 public:
  Filters(Interpreter& interp, Env& env, const std::string& name, CallArgs& args, bool called)
      : in_(interp), env_(env), name_(name), args_(args), called_(called) {}

  Value apply(const Value& v) {
    if (name_ == "safe") return v;
    if (name_ == "tojson") return tojson(v);
    if (name_ == "default" || name_ == "d") return default_value(v);
    if (name_ == "join") return join(v);
    if (name_ == "int" || name_ == "float") return number(v);
    if (name_ == "attr" && v.is_mapping()) {  // extension
      const Value* key = args_.get(0, "name");
      const Value* found = key && key->is(Kind::string) ? v.obj->find(key->s) : nullptr;
      return found ? *found : Value::undefined();
    }
    switch (v.kind) {
      case Kind::array:
        return array(v);
      case Kind::string:
        return string(v);
      case Kind::integer:
      case Kind::floating:
        return numeric(v);
      case Kind::object:
        return object(v);
      case Kind::boolean:
        return boolean(v);
      default:
        break;
    }
    fail("Cannot apply filter \"" + name_ + "\" to type: " + kind_name(v.kind));
  }

 private:
  Interpreter& in_;
  Env& env_;
  const std::string& name_;
  CallArgs& args_;
  bool called_;

  [[noreturn]] void unknown(const Value& v) {
    fail(std::string("Unknown ") + kind_name(v.kind) + " filter: " + name_);
  }

  Value tojson(const Value& v) {
    JsonOptions opt;
    if (const Value* indent = args_.keyword("indent"); indent && !indent->is(Kind::null)) {
      if (!indent->is(Kind::integer)) fail("If set, indent must be a number");
      opt.indent = indent->i;
    }
    if (const Value* ascii = args_.keyword("ensure_ascii")) {
      if (!ascii->is(Kind::boolean)) fail("If set, ensure_ascii must be a boolean");
      opt.ensure_ascii = ascii->b;
    }
    if (const Value* sort = args_.keyword("sort_keys")) {
      if (!sort->is(Kind::boolean)) fail("If set, sort_keys must be a boolean");
      opt.sort_keys = sort->b;
    }
    if (const Value* seps = args_.keyword("separators"); seps && !seps->is(Kind::null)) {
      if (!seps->is(Kind::array) || seps->arr->items.size() != 2 || !seps->arr->items[0].is(Kind::string) ||
          !seps->arr->items[1].is(Kind::string))
        fail("separators must be a tuple of two strings");
      opt.separators = std::make_pair(seps->arr->items[0].s, seps->arr->items[1].s);
    }
    std::string out = to_json(v, opt);
    in_.check_size(out.size());
    return Value::string(out);
  }

  Value default_value(const Value& v) {
    Value fallback = args_.positional.empty() ? Value::string("") : args_.positional[0];
    const Value* boolean = flag_arg(args_, 1, "boolean");
    if (v.is(Kind::undefined) || (boolean && boolean->b && !truthy(v))) return fallback;
    return v;
  }

  Value join(const Value& v) {
    const Value* sep = args_.get(0, "d");
    if (!sep) sep = args_.keyword("separator");
    if (sep && !sep->is(Kind::string)) fail("separator must be a string");
    std::string separator = sep ? sep->s : "";
    const Value* attribute = args_.keyword("attribute");  // extension
    std::string out;
    auto add = [&](size_t k, const std::string& piece) {
      if (k) out += separator;
      out += piece;
      in_.check_size(out.size());
    };
    if (v.is(Kind::string)) {
      auto cps = text::code_points(v.s);
      for (size_t k = 0; k < cps.size(); ++k) add(k, cps[k]);
    } else if (v.is(Kind::array)) {
      for (size_t k = 0; k < v.arr->items.size(); ++k) {
        const Value& item = v.arr->items[k];
        add(k,
            join_piece(attribute && attribute->is(Kind::string) ? attribute_path(item, attribute->s) : item));
      }
    } else {
      fail("Cannot apply filter \"join\" to type: " + std::string(kind_name(v.kind)));
    }
    return Value::string(out);
  }

  Value number(const Value& v) {
    bool is_int = name_ == "int";
    Value fallback = is_int ? Value::integer(0) : Value::floating(0);
    if (const Value* d = args_.get(0, "default")) fallback = *d;
    if (v.is(Kind::string)) {
      if (is_int) {
        auto n = text::parse_int_prefix(v.s);
        return n ? Value::integer(*n) : fallback;
      }
      auto f = text::parse_float_prefix(v.s);
      return f ? Value::floating(*f) : fallback;
    }
    if (v.is(Kind::boolean)) return is_int ? Value::integer(v.b ? 1 : 0) : Value::floating(v.b ? 1 : 0);
    if (v.is_number()) {
      if (called_) return v;  // the reference returns numbers unchanged from int(...) / float(...)
      if (!is_int) return Value::floating(v.number());
      if (v.is(Kind::integer)) return v;
      double floored = std::floor(v.f);
      if (!std::isfinite(floored) || std::fabs(floored) >= 9.2e18) fail("cannot convert to integer");
      return Value::integer(int64_t(floored));
    }
    fail("Cannot apply filter \"" + name_ + "\" to type: " + kind_name(v.kind));
  }

  Value array(const Value& v) {
    const auto& items = v.arr->items;
    if (name_ == "list") return v;
    if (name_ == "first") return items.empty() ? Value::undefined() : items.front();
    if (name_ == "last") return items.empty() ? Value::undefined() : items.back();
    if (name_ == "length" || name_ == "count") return Value::integer(int64_t(items.size()));
    if (name_ == "reverse") return in_.heap().array(std::vector<Value>(items.rbegin(), items.rend()));
    if (name_ == "sort") return sort(v);
    if (name_ == "string") return Value::string(to_json(v, JsonOptions{}, false));
    if (name_ == "unique") return unique(v);
    if (name_ == "selectattr" || name_ == "rejectattr") return select_attribute(v, name_ == "selectattr");
    if (name_ == "select" || name_ == "reject") return select_items(v, name_ == "select");
    if (name_ == "map") return map(v);
    if (name_ == "sum") return sum(v);
    if (name_ == "min" || name_ == "max") return extreme(v, name_ == "max");
    if (name_ == "batch") return batch(v);
    unknown(v);
  }

  Value sort(const Value& v) {
    const Value* reverse = flag_arg(args_, 0, "reverse");
    const Value* case_sensitive = flag_arg(args_, 1, "case_sensitive");
    const Value* attribute = args_.get(2, "attribute");
    if (attribute && !attribute->is(Kind::string) && !attribute->is(Kind::integer) &&
        !attribute->is(Kind::null))
      fail("attribute must be a string, integer, or null");
    std::string path;
    bool by_attribute = attribute && !attribute->is(Kind::null);
    if (by_attribute) path = attribute->is(Kind::integer) ? std::to_string(attribute->i) : attribute->s;
    bool rev = reverse && reverse->b, cs = case_sensitive && case_sensitive->b;
    std::vector<Value> items = v.arr->items;
    std::stable_sort(items.begin(), items.end(), [&](const Value& a, const Value& b) {
      int c = by_attribute ? compare_values(attribute_path(a, path), attribute_path(b, path), cs)
                           : compare_values(a, b, cs);
      return rev ? c > 0 : c < 0;
    });
    return in_.heap().array(std::move(items));
  }

  Value unique(const Value& v) {
    std::unordered_set<std::string> seen;
    std::vector<Value> out;
    for (const auto& item : v.arr->items) {
      // Identity key with JavaScript's SameValueZero (1 and 1.0 are the same number).
      std::string key;
      if (item.is_number())
        key = "n" + js_number(item.number());
      else if (item.is(Kind::string))
        key = "s" + item.s;
      else if (item.is(Kind::boolean))
        key = item.b ? "t" : "f";
      else if (item.is_none())
        key = item.is(Kind::null) ? "null" : "undef";
      else
        key = "p" + std::to_string(reinterpret_cast<uintptr_t>(item.arr   ? (void*)item.arr
                                                               : item.obj ? (void*)item.obj
                                                                          : (void*)item.fn));
      if (seen.insert(key).second) out.push_back(item);
    }
    return in_.heap().array(std::move(out));
  }

  Value select_attribute(const Value& v, bool select) {
    for (const auto& item : v.arr->items)
      if (!item.is_mapping()) fail("`" + name_ + "` can only be applied to array of objects");
    const Value* attr = args_.get(0, "attr");
    if (!attr || !attr->is(Kind::string)) fail("arguments of `" + name_ + "` must be strings");
    std::string test;
    if (args_.positional.size() > 1) {
      if (!args_.positional[1].is(Kind::string)) fail("arguments of `" + name_ + "` must be strings");
      test = args_.positional[1].s;
      if (!has_test(test)) fail("Unknown test: " + test);
    }
    std::vector<Value> test_args(args_.positional.begin() + std::min<size_t>(2, args_.positional.size()),
                                 args_.positional.end());
    std::vector<Value> out;
    for (const auto& item : v.arr->items) {
      const Value* a = item.obj->find(attr->s);
      bool result = a && (test.empty() ? truthy(*a) : apply_test(test, *a, test_args));
      if (result == select) out.push_back(item);
    }
    return in_.heap().array(std::move(out));
  }

  // Extension: select("test", args...) / reject(...).
  Value select_items(const Value& v, bool select) {
    std::string test;
    if (!args_.positional.empty()) {
      if (!args_.positional[0].is(Kind::string)) fail("the test name must be a string");
      test = args_.positional[0].s;
      if (!has_test(test)) fail("Unknown test: " + test);
    }
    std::vector<Value> test_args(args_.positional.begin() + std::min<size_t>(1, args_.positional.size()),
                                 args_.positional.end());
    std::vector<Value> out;
    for (const auto& item : v.arr->items) {
      bool result = test.empty() ? truthy(item) : apply_test(test, item, test_args);
      if (result == select) out.push_back(item);
    }
    return in_.heap().array(std::move(out));
  }

  Value map(const Value& v) {
    std::vector<Value> out;
    if (const Value* attr = args_.keyword("attribute")) {
      if (!attr->is(Kind::string)) fail("attribute must be a string");
      const Value* fallback = args_.keyword("default");
      for (const auto& item : v.arr->items) {
        if (!item.is_mapping()) fail("items in map must be an object");
        Value value = attribute_path(item, attr->s);
        out.push_back(value.is(Kind::undefined) && fallback ? *fallback : value);
      }
      return in_.heap().array(std::move(out));
    }
    // Extension: map("filter", args...).
    if (args_.positional.empty() || !args_.positional[0].is(Kind::string))
      fail("`map` expressions without `attribute` set are not currently supported.");
    std::string filter = args_.positional[0].s;
    CallArgs rest;
    rest.positional.assign(args_.positional.begin() + 1, args_.positional.end());
    rest.keywords = args_.keywords;
    for (const auto& item : v.arr->items) {
      in_.step();
      out.push_back(
          Filters(in_, env_, filter, rest, rest.positional.size() + rest.keywords.size() > 0).apply(item));
    }
    return in_.heap().array(std::move(out));
  }

  std::vector<Value> projected(const Value& v) {
    const Value* attr = args_.keyword("attribute");
    if (!attr || !attr->is(Kind::string)) return v.arr->items;
    std::vector<Value> out;
    for (const auto& item : v.arr->items) out.push_back(attribute_path(item, attr->s));
    return out;
  }

  Value sum(const Value& v) {  // extension
    const Value* start = args_.keyword("start");
    Value total = start ? *start : Value::integer(0);
    for (const auto& item : projected(v)) {
      if (!is_numeric_like(item) || !is_numeric_like(total)) fail("sum() needs numbers");
      if (total.is(Kind::floating) || item.is(Kind::floating)) {
        total = Value::floating(total.number() + item.number());
      } else {
        auto as_integer = [](const Value& x) { return x.is(Kind::boolean) ? int64_t(x.b) : x.i; };
        int64_t r;
        if (__builtin_add_overflow(as_integer(total), as_integer(item), &r)) fail("integer overflow");
        total = Value::integer(r);
      }
    }
    return total;
  }

  Value extreme(const Value& v, bool want_max) {  // extension
    const Value* case_sensitive = flag_arg(args_, 0, "case_sensitive");
    auto items = projected(v);
    if (items.empty()) return Value::undefined();
    size_t best = 0;
    for (size_t k = 1; k < items.size(); ++k) {
      int c = compare_values(items[k], items[best], case_sensitive && case_sensitive->b);
      if (want_max ? c > 0 : c < 0) best = k;
    }
    if (const Value* attr = args_.keyword("attribute"); attr && attr->is(Kind::string))
      return v.arr->items[best];
    return items[best];
  }

  Value batch(const Value& v) {  // extension
    const Value* size = args_.get(0, "linecount");
    if (!size || !size->is(Kind::integer) || size->i <= 0) fail("batch() needs a positive size");
    const Value* fill = args_.get(1, "fill_with");
    std::vector<Value> out, row;
    for (const auto& item : v.arr->items) {
      row.push_back(item);
      if (int64_t(row.size()) == size->i) out.push_back(in_.heap().array(std::exchange(row, {})));
    }
    if (!row.empty()) {
      while (fill && int64_t(row.size()) < size->i) row.push_back(*fill);
      out.push_back(in_.heap().array(std::move(row)));
    }
    return in_.heap().array(std::move(out));
  }

  Value string(const Value& v) {
    const std::string& s = v.s;
    if (name_ == "length" || name_ == "count") return Value::integer(int64_t(text::js_length(s)));
    if (name_ == "upper") return Value::string(text::to_upper(s));
    if (name_ == "lower") return Value::string(text::to_lower(s));
    if (name_ == "title") return Value::string(text::title_case(s));
    if (name_ == "capitalize") return Value::string(text::capitalize(s));
    if (name_ == "trim") return Value::string(text::trim(s));
    if (name_ == "string") return v;
    if (name_ == "indent") return indent(s);
    if (name_ == "replace") return builtin_call(v, "replace");
    if (name_ == "list" || name_ == "first" || name_ == "last" || name_ == "reverse") {  // extension
      auto cps = text::code_points(s);
      if (name_ == "first") return cps.empty() ? Value::undefined() : Value::string(cps.front());
      if (name_ == "last") return cps.empty() ? Value::undefined() : Value::string(cps.back());
      if (name_ == "reverse") {
        std::string out;
        for (auto it = cps.rbegin(); it != cps.rend(); ++it) out += *it;
        return Value::string(out);
      }
      std::vector<Value> items;
      for (auto& cp : cps) items.push_back(Value::string(std::move(cp)));
      return in_.heap().array(std::move(items));
    }
    if (name_ == "wordcount") return wordcount(s);
    if (name_ == "center") return center(s);
    if (name_ == "striptags") return striptags(s);
    if (name_ == "truncate") return truncate(s);
    if (name_ == "escape" || name_ == "e" || name_ == "forceescape") return escape(s);
    unknown(v);
  }

  Value builtin_call(const Value& v, const std::string& method) {
    Value fn = builtin_member(in_, v, method);
    return in_.call(fn, args_, env_);
  }

  Value indent(const std::string& s) {
    const Value* width = args_.get(0, "width");
    std::string pad(4, ' ');
    if (width && width->is(Kind::integer)) {
      if (width->i < 0 || width->i > 4096) fail("indent width out of range");
      pad.assign(size_t(width->i), ' ');
    } else if (width && width->is(Kind::string)) {
      pad = width->s;  // extension, as Python Jinja
    } else if (width) {
      fail("width must be a number");
    }
    const Value* first = args_.get(1, "first");
    const Value* blank = args_.get(2, "blank");
    bool indent_first = first && truthy(*first), indent_blank = blank && truthy(*blank);
    std::string out;
    size_t start = 0, line = 0;
    while (true) {
      size_t end = s.find('\n', start);
      std::string_view piece =
          std::string_view(s).substr(start, end == std::string::npos ? std::string::npos : end - start);
      if ((indent_first || line > 0) && (indent_blank || !piece.empty())) out += pad;
      out += piece;
      in_.check_size(out.size());
      if (end == std::string::npos) break;
      out += '\n';
      start = end + 1;
      ++line;
    }
    return Value::string(out);
  }

  Value wordcount(const std::string& s) {
    int64_t n = 0;
    bool in_word = false;
    for (char c : s) {
      bool word = text::is_word_byte(c) || (static_cast<unsigned char>(c) >= 0x80);
      if (word && !in_word) ++n;
      in_word = word;
    }
    return Value::integer(n);
  }

  Value center(const std::string& s) {
    const Value* width = args_.get(0, "width");
    int64_t w = width && width->is(Kind::integer) ? width->i : 80;
    int64_t len = int64_t(utf8::count_chars(s));
    if (w <= len) return Value::string(s);
    in_.check_size(size_t(w));
    int64_t total = w - len, left = total / 2 + (total & w & 1);
    return Value::string(std::string(size_t(left), ' ') + s + std::string(size_t(total - left), ' '));
  }

  Value striptags(const std::string& s) {
    std::string stripped;
    bool in_tag = false;
    for (char c : s) {
      if (c == '<')
        in_tag = true;
      else if (c == '>' && in_tag)
        in_tag = false;
      else if (!in_tag)
        stripped += c;
    }
    std::string out;
    for (size_t pos = 0; pos < stripped.size();) {
      size_t start = pos;
      char32_t cp = utf8::decode(stripped, pos);
      if (text::is_js_space(cp)) {
        if (!out.empty() && out.back() != ' ') out += ' ';
      } else {
        out.append(stripped, start, pos - start);
      }
    }
    return Value::string(text::trim_end(out));
  }

  Value truncate(const std::string& s) {
    const Value* length = args_.get(0, "length");
    const Value* killwords = args_.get(1, "killwords");
    const Value* end = args_.get(2, "end");
    const Value* leeway = args_.get(3, "leeway");
    int64_t n = length && length->is(Kind::integer) ? length->i : 255;
    int64_t lee = leeway && leeway->is(Kind::integer) ? leeway->i : 5;
    std::string tail = end && end->is(Kind::string) ? end->s : "...";
    int64_t length_in_chars = int64_t(utf8::count_chars(s)), within = 0;
    if (__builtin_add_overflow(n, lee, &within)) within = lee > 0 ? INT64_MAX : INT64_MIN;
    if (length_in_chars <= within) return Value::string(s);
    int64_t keep = n < INT64_MIN / 2 ? 0 : std::max<int64_t>(n - int64_t(utf8::count_chars(tail)), 0);
    size_t end_of_kept = 0;
    for (int64_t k = 0; k < keep && end_of_kept < s.size(); ++k) utf8::decode(s, end_of_kept);
    std::string out = s.substr(0, end_of_kept);
    if (!(killwords && truthy(*killwords))) {
      size_t space = out.rfind(' ');
      if (space != std::string::npos) out.resize(space);
    }
    return Value::string(out + tail);
  }

  Value escape(const std::string& s) {
    size_t bytes = s.size();  // sized first: each escape is 4 or 5 bytes longer
    for (char c : s) bytes += c == '&' || c == '"' || c == '\'' ? 4 : c == '<' || c == '>' ? 3 : 0;
    in_.check_size(bytes);
    std::string out;
    out.reserve(bytes);
    for (char c : s) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&#34;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          out += c;
      }
    }
    return Value::string(out);
  }

  Value numeric(const Value& v) {
    if (name_ == "abs") {
      if (v.is(Kind::floating)) return Value::floating(std::fabs(v.f));
      if (v.i == INT64_MIN) fail("integer overflow");
      return Value::integer(v.i < 0 ? -v.i : v.i);
    }
    if (name_ == "string") return Value::string(to_output(v));
    if (name_ == "round") {  // extension: Python Jinja's round(precision=0, method='common') -> float
      const Value* precision = args_.get(0, "precision");
      const Value* method = args_.get(1, "method");
      int64_t p =
          precision && precision->is(Kind::integer) ? std::clamp<int64_t>(precision->i, -300, 300) : 0;
      std::string how = method && method->is(Kind::string) ? method->s : "common";
      double scale = std::pow(10.0, double(p)), x = v.number() * scale;
      double r = how == "ceil" ? std::ceil(x) : how == "floor" ? std::floor(x) : std::round(x);
      return Value::floating(r / scale);
    }
    unknown(v);
  }

  Value object(const Value& v) {
    if (name_ == "items") return builtin_call(v, "items");
    if (name_ == "length" || name_ == "count") return Value::integer(int64_t(v.obj->entries.size()));
    if (name_ == "list") return builtin_call(v, "keys");  // extension
    Value fn = builtin_member(in_, v, name_);
    if (fn.is(Kind::function)) return in_.call(fn, args_, env_);
    unknown(v);
  }

  Value boolean(const Value& v) {
    if (name_ == "bool") return v;
    if (name_ == "string") return Value::string(v.b ? "true" : "false");
    unknown(v);
  }
};

}  // namespace

int compare_values(const Value& a, const Value& b, bool case_sensitive) {
  if (a.is(Kind::null) && b.is(Kind::null)) return 0;
  if (a.is(Kind::null) || b.is(Kind::null) || a.is(Kind::undefined) != b.is(Kind::undefined))
    fail(std::string("Cannot compare ") + kind_name(a.kind) + " with " + kind_name(b.kind));
  if (a.is(Kind::undefined)) return 0;
  if (is_numeric_like(a) && is_numeric_like(b)) {
    double x = a.number(), y = b.number();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (a.kind != b.kind)
    fail(std::string("Cannot compare different types: ") + kind_name(a.kind) + " and " + kind_name(b.kind));
  if (!a.is(Kind::string)) fail(std::string("Cannot compare type: ") + kind_name(a.kind));
  std::string x = case_sensitive ? a.s : text::to_lower(a.s), y = case_sensitive ? b.s : text::to_lower(b.s);
  return x < y ? -1 : x > y ? 1 : 0;
}

Value apply_filter(Interpreter& interp, const Value& operand, const Node& filter, Env& env) {
  CallArgs args;
  const Node* name = &filter;
  bool called = filter.kind == NodeKind::call;
  if (called) {
    name = filter.a.get();
    if (name->kind != NodeKind::identifier) fail("Unknown filter");
    args = interp.evaluate_arguments(filter.list, env);
  }
  return Filters(interp, env, name->str, args, called).apply(operand);
}

}  // namespace ortlm::tpl
