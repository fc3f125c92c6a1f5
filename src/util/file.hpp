#pragma once
// Reading whole files and JSON documents, with errors that name the path. Shared by every concept:
// extend it here rather than writing another reader.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace ortlm::util {

// The whole file as bytes; throws ortlm::Error naming the path when it cannot be read (or is not a
// regular file: a FIFO or a device would block or never end).
std::string read_file(const std::filesystem::path& path);

// Replaces `path` with `bytes` atomically (a temporary file beside it, flushed, then renamed), so a
// crash or a full disk leaves the old file or the new one, never half of one. Throws ortlm::Error
// naming the path and the failing step.
void write_file_atomically(const std::filesystem::path& path, std::string_view bytes);

// JSON documents nested deeper than this are refused: no config, tokenizer or template needs more,
// and deep nesting costs stack in every recursive consumer of the parsed tree.
inline constexpr size_t kMaxJsonDepth = 256;

// A parsed JSON document; throws ortlm::Error naming the path and the byte where parsing failed.
nlohmann::json read_json_file(const std::filesystem::path& path);

// Parses JSON text; `origin` names it in the error message. Refuses nesting deeper than kMaxJsonDepth.
nlohmann::json parse_json(const std::string& text, const std::string& origin);

// The same, keeping object keys in document order (chat templates print them in that order).
nlohmann::ordered_json parse_ordered_json(const std::string& text, const std::string& origin);
nlohmann::ordered_json read_ordered_json_file(const std::filesystem::path& path);

}  // namespace ortlm::util
