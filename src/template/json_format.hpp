#pragma once
// JSON in and out of the engine: nlohmann::json inputs become runtime values (as JavaScript's
// JSON.parse would make them), and `tojson` / container output serialize like @huggingface/jinja.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "template/value.hpp"

namespace ortlm::tpl {

struct JsonOptions {
  int64_t indent = 0;  // 0 = single line
  bool ensure_ascii = false;
  std::optional<std::pair<std::string, std::string>> separators;  // (item, key)
  bool sort_keys = false;
};

std::string to_json(const Value& value, const JsonOptions& options, bool undefined_as_null = true);
// A JSON string literal the way JSON.stringify writes it (non-ASCII kept as is).
std::string json_quote(std::string_view s);
// Keys keep their order, except that integer-like keys come first in ascending order, as in JavaScript.
Value from_json(const nlohmann::ordered_json& json, Heap& heap);

}  // namespace ortlm::tpl
