#include "tokenizer/json_fields.hpp"

namespace ortlm::tok {

const json* find_member(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return nullptr;
  return &*it;
}

std::string as_string(const json& value, const JsonPath& at) {
  if (!value.is_string()) at.fail(std::string("expected a string, found ") + value.type_name());
  return value.get<std::string>();
}

std::string get_string(const json& j, std::string_view key, const JsonPath& at) {
  const json* v = find_member(j, key);
  if (!v) (at / key).fail("missing");
  return as_string(*v, at / key);
}

std::string get_string_or(const json& j, std::string_view key, const JsonPath& at, std::string fallback) {
  const json* v = find_member(j, key);
  return v ? as_string(*v, at / key) : fallback;
}

bool get_bool_or(const json& j, std::string_view key, const JsonPath& at, bool fallback) {
  const json* v = find_member(j, key);
  if (!v) return fallback;
  if (!v->is_boolean()) (at / key).fail(std::string("expected true or false, found ") + v->type_name());
  return v->get<bool>();
}

int64_t get_int(const json& j, std::string_view key, const JsonPath& at) {
  const json* v = find_member(j, key);
  if (!v) (at / key).fail("missing");
  if (!v->is_number_integer()) (at / key).fail(std::string("expected an integer, found ") + v->type_name());
  return v->get<int64_t>();
}

int64_t get_int_or(const json& j, std::string_view key, const JsonPath& at, int64_t fallback) {
  return find_member(j, key) ? get_int(j, key, at) : fallback;
}

int32_t get_id(const json& value, const JsonPath& at) {
  if (!value.is_number_integer())
    at.fail(std::string("expected an id (integer), found ") + value.type_name());
  auto id = value.get<int64_t>();
  if (id < 0 || id > INT32_MAX) at.fail("id " + std::to_string(id) + " is out of range");
  return static_cast<int32_t>(id);
}

IdLimit::IdLimit(size_t tokens)
    : tokens_(tokens),
      bound_(tokens >= (size_t{INT32_MAX} - 65536) / 4 ? int64_t{INT32_MAX}
                                                       : static_cast<int64_t>(tokens) * 4 + 65536) {}

int32_t IdLimit::check(int64_t id, const JsonPath& at) const {
  if (id < 0) at.fail("id " + std::to_string(id) + " is negative");
  if (id >= bound_) {
    at.fail("id " + std::to_string(id) + " is beyond what the file describes (it holds " +
            std::to_string(tokens_) +
            " tokens; ids must be below 4 x tokens + 65536 = " + std::to_string(bound_) + ")");
  }
  return static_cast<int32_t>(id);
}

std::string type_of(const json& j, const JsonPath& at) {
  if (!j.is_object()) at.fail(std::string("expected an object, found ") + j.type_name());
  return get_string(j, "type", at);
}

void unsupported_type(const JsonPath& at, std::string_view type) {
  throw Error((at / "type").str() + " \"" + std::string(type) + "\" is not supported");
}

std::unique_ptr<Regex> get_pattern(const json& j, const JsonPath& at, std::string& literal) {
  const json* p = find_member(j, "pattern");
  auto pat = at / "pattern";
  if (!p) pat.fail("missing");
  if (const json* s = find_member(*p, "String")) {
    literal = as_string(*s, pat / "String");
    return nullptr;
  }
  if (const json* r = find_member(*p, "Regex"))
    return std::make_unique<Regex>(as_string(*r, pat / "Regex"), pat.str());
  pat.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

}  // namespace ortlm::tok
