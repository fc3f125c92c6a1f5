#pragma once
// A chat conversation for `ortlm chat`: the history (an optional system message, then user /
// assistant turns), rendering it with the model's chat template, tokenizing the prompt, and dropping
// the oldest turns when it would not fit in the context. No I/O.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ortlm/chat_template.hpp"
#include "ortlm/tokenizer.hpp"

namespace ortlm::cli {

struct ChatPrompt {
  std::string text;             // the rendered prompt, ending with the assistant turn's header
  std::vector<int32_t> ids;     // its tokens
  size_t dropped_messages = 0;  // oldest messages removed from the history to make it fit
};

class ChatSession {
 public:
  // `tokenizer` must outlive the session. `context_length` <= 0 means unknown (nothing is dropped).
  // The template's options (tools, documents, kwargs) are used for every render;
  // add_generation_prompt is always set.
  ChatSession(ChatTemplate chat_template, const Tokenizer& tokenizer, int32_t context_length,
              ChatTemplateOptions options = {});

  // Sets the system message (replacing an earlier one; empty text removes it) and clears the history.
  void set_system(const std::string& text);
  // Clears the history, keeping the system message.
  void reset();
  // Replaces the whole conversation: a leading "system" message becomes the system message.
  // Throws ortlm::Error when a message is not an object with a string "role".
  void set_messages(const nlohmann::ordered_json& messages);
  // Tools and documents passed to the template (lists, or null).
  void set_tools(nlohmann::ordered_json tools, nlohmann::ordered_json documents);
  void add_user(const std::string& content);
  void add_assistant(const std::string& content);
  // Removes the latest message of the history (e.g. a user message that could not be answered).
  void drop_last();

  // The conversation as the template receives it: the system message (if any), then the history.
  nlohmann::ordered_json messages() const;
  size_t history_size() const { return history_.size(); }

  // The prompt for the next assistant reply. While the prompt plus `max_new_tokens` exceeds the
  // context length, drops the oldest turn (a user message and what follows it up to the next user
  // message) from the history, keeping the system message. Throws ortlm::Error when even the
  // latest turn does not fit (the history is then left as it was), or when the template fails.
  ChatPrompt build_prompt(int32_t max_new_tokens);

  // Renders and tokenizes `messages` with the generation prompt. A model with a chat template gets
  // its prompt tokenized without special tokens (the template writes BOS itself when the model
  // wants it, as transformers does); the plain fallback gets them added (BOS for Llama-like models).
  ChatPrompt render(const nlohmann::ordered_json& messages) const;

 private:
  nlohmann::ordered_json with_system(const nlohmann::ordered_json& history) const;

  ChatTemplate template_;
  const Tokenizer* tokenizer_;
  int32_t context_length_;
  ChatTemplateOptions options_;
  nlohmann::ordered_json system_ = nullptr;                           // the system message, or null
  nlohmann::ordered_json history_ = nlohmann::ordered_json::array();  // the other messages
};

}  // namespace ortlm::cli
