#include "template/json_format.hpp"

#include <algorithm>
#include <cmath>

#include "template/memory.hpp"
#include "template/text.hpp"

namespace ortlm::tpl {

namespace {

constexpr int kMaxDepth = 256;

void append_hex4(std::string& out, unsigned unit) {
  static const char* hex = "0123456789abcdef";
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += hex[(unit >> shift) & 0xF];
}

// ensure_ascii: every UTF-16 unit from U+007F up becomes \uXXXX (surrogate pairs as two escapes).
std::string ascii_safe(std::string_view s) {
  std::string out;
  for (size_t pos = 0; pos < s.size();) {
    char32_t cp = utf8::decode(s, pos);
    if (cp < 0x7F) {
      out += char(cp);
    } else if (cp < 0x10000) {
      append_hex4(out, unsigned(cp));
    } else {
      cp -= 0x10000;
      append_hex4(out, unsigned(0xD800 + (cp >> 10)));
      append_hex4(out, unsigned(0xDC00 + (cp & 0x3FF)));
    }
  }
  return out;
}

// An approximation of String.prototype.localeCompare (ICU root collation) for sort_keys:
// case-insensitive first, lower case before upper case on ties, punctuation before digits before letters.
int collation_class(unsigned char c) {
  if (std::isalpha(c)) return 3;
  if (std::isdigit(c)) return 2;
  return 1;
}
bool locale_less(const std::string& a, const std::string& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t k = 0; k < n; ++k) {
    auto x = static_cast<unsigned char>(a[k]), y = static_cast<unsigned char>(b[k]);
    int cx = collation_class(x), cy = collation_class(y);
    if (cx != cy) return cx < cy;
    int lx = std::tolower(x), ly = std::tolower(y);
    if (lx != ly) return lx < ly;
  }
  if (a.size() != b.size()) return a.size() < b.size();
  for (size_t k = 0; k < n; ++k)
    if (a[k] != b[k]) return std::islower(static_cast<unsigned char>(a[k]));
  return false;
}

std::string number_json(const Value& v) {
  if (v.kind == Kind::integer) return std::to_string(v.i);
  if (!std::isfinite(v.f)) return "null";
  return js_number(v.f);
}

void write(std::string& out, const Value& v, const JsonOptions& opt, int depth, bool undefined_as_null) {
  if (depth > kMaxDepth) fail("tojson: value nested too deeply");
  std::string item_sep = ", ", key_sep = ": ";
  if (opt.separators) {
    item_sep = opt.separators->first;
    key_sep = opt.separators->second;
  } else if (opt.indent) {
    item_sep = ",";
  }
  switch (v.kind) {
    case Kind::null:
      out += "null";
      return;
    case Kind::undefined:
      out += undefined_as_null ? "null" : "undefined";
      return;
    case Kind::boolean:
      out += v.b ? "true" : "false";
      return;
    case Kind::integer:
    case Kind::floating:
      out += number_json(v);
      return;
    case Kind::string:
      check_string_size(out.size() + v.s.size());
      out += opt.ensure_ascii ? ascii_safe(json_quote(v.s)) : json_quote(v.s);
      return;
    case Kind::function:
      fail("Cannot convert to JSON: FunctionValue");
    default:
      break;
  }
  // The indentation of this level and the next, sized before they are made.
  check_string_size(size_t(std::clamp<int64_t>(opt.indent, 0, INT64_MAX / 512)) * size_t(depth + 2));
  std::string indent_unit(size_t(std::max<int64_t>(opt.indent, 0)), ' ');
  std::string base = "\n";
  for (int k = 0; k < depth; ++k) base += indent_unit;
  std::string child = base + indent_unit;
  if (v.kind == Kind::array) {
    if (v.arr->tuple) fail("Cannot convert to JSON: TupleValue");  // as the reference
    const auto& items = v.arr->items;
    out += '[';
    if (opt.indent && !items.empty()) out += child;
    for (size_t k = 0; k < items.size(); ++k) {
      if (k) {
        out += item_sep;
        if (opt.indent) out += child;
      }
      write(out, items[k], opt, depth + 1, undefined_as_null);
      check_string_size(out.size());
    }
    if (opt.indent && !items.empty()) out += base;
    out += ']';
    return;
  }
  std::vector<const std::pair<std::string, Value>*> entries;
  for (const auto& entry : v.obj->entries) entries.push_back(&entry);
  if (opt.sort_keys)
    std::stable_sort(entries.begin(), entries.end(),
                     [](const auto* a, const auto* b) { return locale_less(a->first, b->first); });
  out += '{';
  for (size_t k = 0; k < entries.size(); ++k) {
    if (k) out += item_sep;
    if (opt.indent) out += child;
    out += opt.ensure_ascii ? ascii_safe(json_quote(entries[k]->first)) : json_quote(entries[k]->first);
    out += key_sep;
    write(out, entries[k]->second, opt, depth + 1, undefined_as_null);
    check_string_size(out.size());
  }
  if (opt.indent && !entries.empty()) out += base;
  out += '}';
}

}  // namespace

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (size_t pos = 0; pos < s.size();) {
    size_t start = pos;
    char32_t cp = utf8::decode(s, pos);
    switch (cp) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (cp < 0x20) {
          append_hex4(out, unsigned(cp));
        } else {
          out.append(s.substr(start, pos - start));
        }
    }
  }
  out += '"';
  return out;
}

std::string to_json(const Value& value, const JsonOptions& options, bool undefined_as_null) {
  if (options.indent < 0) fail("Invalid count value: " + std::to_string(options.indent));
  std::string out;
  write(out, value, options, 0, undefined_as_null);
  return out;
}

namespace {
// JavaScript enumerates canonical array-index keys ("0", "17") before other keys.
std::optional<uint64_t> array_index(const std::string& key) {
  if (key.empty() || key.size() > 10 || (key.size() > 1 && key[0] == '0')) return std::nullopt;
  uint64_t n = 0;
  for (char c : key) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + uint64_t(c - '0');
  }
  if (n >= 4294967295ull) return std::nullopt;
  return n;
}

Value convert(const nlohmann::ordered_json& json, Heap& heap, int depth) {
  if (depth > kMaxDepth) fail("input JSON nested too deeply");
  switch (json.type()) {
    case nlohmann::ordered_json::value_t::null:
      return Value::null();
    case nlohmann::ordered_json::value_t::boolean:
      return Value::boolean(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer:
      return Value::integer(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      auto u = json.get<uint64_t>();
      return u <= uint64_t(INT64_MAX) ? Value::integer(int64_t(u)) : Value::floating(double(u));
    }
    case nlohmann::ordered_json::value_t::number_float: {
      // JSON.parse makes 1.0 the integer 1.
      double d = json.get<double>();
      if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) < 9.007199254740992e15)
        return Value::integer(int64_t(d));
      return Value::floating(d);
    }
    case nlohmann::ordered_json::value_t::string:
      return Value::string(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(convert(item, heap, depth + 1));
      return heap.array(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      Value obj = heap.object();
      std::vector<std::pair<uint64_t, const std::string*>> index_keys;
      for (const auto& [key, item] : json.items())
        if (auto n = array_index(key)) index_keys.emplace_back(*n, &key);
      std::sort(index_keys.begin(), index_keys.end());
      for (const auto& [n, key] : index_keys) obj.obj->set(*key, convert(json.at(*key), heap, depth + 1));
      for (const auto& [key, item] : json.items())
        if (!array_index(key)) obj.obj->set(key, convert(item, heap, depth + 1));
      return obj;
    }
    default:
      return Value::undefined();
  }
}
}  // namespace

Value from_json(const nlohmann::ordered_json& json, Heap& heap) { return convert(json, heap, 0); }

}  // namespace ortlm::tpl
