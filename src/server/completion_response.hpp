#pragma once
// OpenAI response bodies for a finished or streaming request: chat.completion / text_completion
// objects, their streamed chunks (SSE "data:" lines ending with "data: [DONE]"), usage counts,
// finish reasons and logprobs in each endpoint's own format.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "ortlm/generator.hpp"
#include "ortlm/tokenizer.hpp"
#include "server/completion_request.hpp"

namespace ortlm::server {

class CompletionResponse {
 public:
  CompletionResponse(const CompletionRequest& request, const std::string& model_id,
                     const Tokenizer* tokenizer);

  size_t choices() const { return request_.prompts.size() * static_cast<size_t>(request_.n); }
  // The prompt a choice answers (choices are prompt-major: prompt i's n choices are i*n .. i*n+n-1).
  size_t prompt_of(size_t choice) const { return choice / static_cast<size_t>(request_.n); }

  // The whole response once every choice is done.
  std::string body(const std::vector<GenerationResult>& results) const;

  // Streaming, as SSE events ("data: {...}\n\n"). The first event of a choice (chat: the role; with
  // echo: the prompt's text), a piece of text, and the end of a choice (its logprobs, all at once,
  // then its finish reason).
  std::string stream_start(size_t choice) const;
  std::string stream_text(size_t choice, const std::string& text) const;
  std::string stream_end(size_t choice, const GenerationResult& result) const;
  // After every choice: the usage chunk (when asked for) and [DONE].
  std::string stream_finish(const std::vector<GenerationResult>& results) const;

 private:
  nlohmann::json usage(const std::vector<GenerationResult>& results) const;
  nlohmann::json logprobs(const GenerationResult& result, size_t choice) const;
  nlohmann::json chunk(nlohmann::json choices) const;
  // A token's text as it reads after `context` (the ids before it): decoding it alone would lose
  // what decoders do at the start of a text (SentencePiece's leading space).
  std::string token_text(std::span<const int32_t> context, int32_t id) const;

  const CompletionRequest& request_;
  std::string model_id_, id_;
  int64_t created_;
  const Tokenizer* tokenizer_;
};

// "stop" or "length", as OpenAI names why a choice ended.
const char* finish_reason(StopReason reason);
// One SSE event carrying `json`.
std::string sse(const std::string& json);

}  // namespace ortlm::server
