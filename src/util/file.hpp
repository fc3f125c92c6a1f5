#pragma once
// Reading whole files and JSON documents, with errors that name the path. Shared by every concept:
// extend it here rather than writing another reader.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace ortlm::util {

// The whole file as bytes; throws ortlm::Error naming the path when it cannot be read.
std::string read_file(const std::filesystem::path& path);

// A parsed JSON document; throws ortlm::Error naming the path and the byte where parsing failed.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Parses JSON text; `origin` names it in the error message.
nlohmann::json parse_json(const std::string& text, const std::string& origin);

// The same, keeping object keys in document order (chat templates print them in that order).
nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& origin);
nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path);

}  // namespace ortlm::util
