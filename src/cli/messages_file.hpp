#pragma once
// Reading conversations (JSON message lists) for `ortlm template` and `ortlm chat`.
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace ortlm::cli {

struct MessagesFile {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  nlohmann::ordered_json tools = nullptr;      // a list, or null
  nlohmann::ordered_json documents = nullptr;  // a list, or null
};

// A list of messages, or an object {"messages", "tools", "documents"}. Throws ortlm::Error naming
// the path when the file cannot be read, is not JSON, or holds no list of messages.
MessagesFile read_messages_file(const std::filesystem::path& path);

}  // namespace ortlm::cli
