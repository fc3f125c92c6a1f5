#pragma once
// Reading tokenizer.json fields with errors that name the file and the field
// ("tokenizer.json: model.merges[12]: ...").
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "ortlm/error.hpp"
#include "tokenizer/regex.hpp"

namespace ortlm::tok {

using nlohmann::json;

// A position in the document: "tokenizer.json: normalizer.normalizers[1]".
class JsonPath {
 public:
  JsonPath(std::string origin, std::string path) : origin_(std::move(origin)), path_(std::move(path)) {}
  JsonPath operator/(std::string_view key) const {
    return {origin_, path_.empty() ? std::string(key) : path_ + "." + std::string(key)};
  }
  JsonPath operator[](size_t index) const { return {origin_, path_ + "[" + std::to_string(index) + "]"}; }
  std::string str() const { return origin_ + ": " + path_; }
  const std::string& origin() const { return origin_; }
  [[noreturn]] void fail(std::string_view message) const { throw Error(str() + ": " + std::string(message)); }

 private:
  std::string origin_;
  std::string path_;
};

// The member `key` of object `j`, or nullptr when absent or null.
const json* find_member(const json& j, std::string_view key);
std::string get_string(const json& j, std::string_view key, const JsonPath& at);
std::string get_string_or(const json& j, std::string_view key, const JsonPath& at, std::string fallback);
bool get_bool_or(const json& j, std::string_view key, const JsonPath& at, bool fallback);
int64_t get_int(const json& j, std::string_view key, const JsonPath& at);
int64_t get_int_or(const json& j, std::string_view key, const JsonPath& at, int64_t fallback);
// An id field: a non-negative integer below 2^31.
int32_t get_id(const json& value, const JsonPath& at);

// The ids a tokenizer.json may use. Ids index tables (the vocabulary's id -> token array costs ~33
// bytes per id), so they are bounded by what the file holds: below 4 x (its vocabulary entries +
// added tokens) + 65536. Real files are dense, their largest id below the entries plus a few
// hundred reserved ids; a hostile one's tables stay within ~130 bytes per token it holds + 2 MiB.
class IdLimit {
 public:
  explicit IdLimit(size_t tokens);
  int64_t bound() const { return bound_; }
  // Throws ortlm::Error naming `at` when `id` is negative or not below the bound.
  int32_t check(int64_t id, const JsonPath& at) const;
  int32_t get(const json& value, const JsonPath& at) const { return check(get_id(value, at), at); }

 private:
  size_t tokens_;
  int64_t bound_;
};
std::string as_string(const json& value, const JsonPath& at);
// The object's "type" field.
std::string type_of(const json& j, const JsonPath& at);
[[noreturn]] void unsupported_type(const JsonPath& at, std::string_view type);

// A {"String": "..."} or {"Regex": "..."} pattern: sets `literal`, or returns the compiled regex.
std::unique_ptr<Regex> get_pattern(const json& j, const JsonPath& at, std::string& literal);

}  // namespace ortlm::tok
