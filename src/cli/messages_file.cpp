#include "cli/messages_file.hpp"

#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::cli {

MessagesFile read_messages_file(const std::filesystem::path& path) {
  const auto doc = util::read_ordered_json_file(path);
  MessagesFile file;
  nlohmann::ordered_json messages = doc;
  if (doc.is_object()) {
    messages = doc.value("messages", nlohmann::ordered_json());
    file.tools = doc.value("tools", nlohmann::ordered_json());
    file.documents = doc.value("documents", nlohmann::ordered_json());
  }
  if (!messages.is_array())
    throw Error(path.string() + ": expected a list of messages (or {\"messages\": [...]})");
  file.messages = std::move(messages);
  return file;
}

}  // namespace ortlm::cli
