#pragma once
// An OpenAI request body (POST /v1/chat/completions or /v1/completions), parsed and checked field by
// field into what the engine runs: prompt ids (chat messages go through the model's chat template)
// and GenerationOptions, plus how to answer (stream, usage, logprobs, n). Every field a client may
// get wrong is an ApiError naming it: wrong JSON type, out of range, unknown role, unknown model,
// prompt or max_tokens beyond the context, invalid UTF-8 (the JSON parser refuses it).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "ortlm/chat_template.hpp"
#include "ortlm/generator.hpp"
#include "ortlm/model.hpp"

namespace ortlm::server {

// The model a server answers for, and the bounds it puts on requests.
struct ServedModel {
  std::shared_ptr<Model> model;
  ChatTemplate chat_template = ChatTemplate::fallback();
  std::string id;          // the name clients pass as "model"
  int32_t max_tokens = 0;  // the most tokens one choice may ask for (<= the context)
  int32_t max_n = 16;      // choices per request (n), and prompts per completions request
  int32_t max_top_logprobs = kMaxLogprobs;
};

enum class Endpoint { chat, completions };

struct CompletionRequest {
  Endpoint endpoint = Endpoint::chat;
  std::vector<std::vector<int32_t>> prompts;  // chat: one; completions: one per prompt
  std::vector<std::string> prompt_texts;      // completions with echo: each prompt's text
  int32_t n = 1;                              // choices per prompt
  GenerationOptions options;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  bool logprobs = false;
  int32_t top_logprobs = 0;  // alternatives per token when logprobs
  bool echo = false;         // completions: the prompt's text before the completion
};

// Throws ApiError (400, or 404 for another model's name).
CompletionRequest parse_chat_request(std::string_view body, const ServedModel& served);
CompletionRequest parse_completion_request(std::string_view body, const ServedModel& served);

}  // namespace ortlm::server
