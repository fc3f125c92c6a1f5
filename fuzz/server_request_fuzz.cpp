// libFuzzer target: arbitrary bytes as an OpenAI request body, parsed as a chat and as a text
// completion request for the bundled model (never run). Any input must be accepted or refused with
// an ApiError of status 4xx: never crash, hang, leak, or fail otherwise. Seeds:
// fuzz/corpus/server_request_fuzz/ (valid requests of every field, and near misses).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/api_error.hpp"
#include "server/completion_request.hpp"

namespace {

const ortlm::server::ServedModel& served() {
  static const ortlm::server::ServedModel model = [] {
    ortlm::server::ServedModel m;
    m.model = ortlm::Model::load(ORTLM_SOURCE_DIR "/models/stories260k");
    m.chat_template = ortlm::ChatTemplate::from_model_folder(m.model->folder());
    m.id = "stories260k";
    m.max_tokens = m.model->config().context_length;
    return m;
  }();
  return model;
}

void parse(std::string_view body, bool chat) {
  try {
    chat ? ortlm::server::parse_chat_request(body, served())
         : ortlm::server::parse_completion_request(body, served());
  } catch (const ortlm::server::ApiError& e) {
    if (e.status() < 400 || e.status() >= 500) std::abort();  // a client's bytes are never a server error
    (void)e.body();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 65536) return 0;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  parse(body, true);
  parse(body, false);
  return 0;
}
