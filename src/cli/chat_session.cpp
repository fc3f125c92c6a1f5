#include "cli/chat_session.hpp"

#include <utility>

#include "ortlm/error.hpp"

namespace ortlm::cli {

namespace {

using ojson = nlohmann::ordered_json;

ojson message(const char* role, const std::string& content) { return {{"role", role}, {"content", content}}; }

bool has_role(const ojson& m, std::string_view role) {
  const auto it = m.find("role");
  return it != m.end() && it->is_string() && it->get_ref<const std::string&>() == role;
}

// The index of the message that starts the second turn (the first user message after index 0),
// or 0 when the history holds a single turn.
size_t second_turn_start(const ojson& history) {
  for (size_t i = 1; i < history.size(); ++i)
    if (has_role(history[i], "user")) return i;
  return 0;
}

}  // namespace

ChatSession::ChatSession(ChatTemplate chat_template, const Tokenizer& tokenizer, int32_t context_length,
                         ChatTemplateOptions options)
    : template_(std::move(chat_template)),
      tokenizer_(&tokenizer),
      context_length_(context_length),
      options_(std::move(options)) {
  options_.add_generation_prompt = true;
}

void ChatSession::set_system(const std::string& text) {
  system_ = text.empty() ? ojson(nullptr) : message("system", text);
  reset();
}

void ChatSession::reset() { history_ = ojson::array(); }

void ChatSession::set_messages(const ojson& messages) {
  if (!messages.is_array()) throw Error("expected a list of messages");
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& m = messages[i];
    if (!m.is_object() || !m.contains("role") || !m["role"].is_string())
      throw Error("message " + std::to_string(i) + ": expected an object with a string \"role\"");
  }
  system_ = nullptr;
  history_ = ojson::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i == 0 && has_role(messages[i], "system"))
      system_ = messages[i];
    else
      history_.push_back(messages[i]);
  }
}

void ChatSession::set_tools(ojson tools, ojson documents) {
  options_.tools = std::move(tools);
  options_.documents = std::move(documents);
}

void ChatSession::add_user(const std::string& content) { history_.push_back(message("user", content)); }

void ChatSession::add_assistant(const std::string& content) {
  history_.push_back(message("assistant", content));
}

void ChatSession::drop_last() {
  if (!history_.empty()) history_.erase(history_.size() - 1);
}

ojson ChatSession::messages() const { return with_system(history_); }

ojson ChatSession::with_system(const ojson& history) const {
  ojson all = ojson::array();
  if (!system_.is_null()) all.push_back(system_);
  for (const auto& m : history) all.push_back(m);
  return all;
}

ChatPrompt ChatSession::render(const ojson& messages) const {
  ChatPrompt prompt;
  prompt.text = template_.render(messages, options_);
  prompt.ids = tokenizer_->encode_ids(prompt.text, /*add_special_tokens=*/template_.is_fallback());
  return prompt;
}

ChatPrompt ChatSession::build_prompt(int32_t max_new_tokens) {
  const int64_t reserve = max_new_tokens > 0 ? max_new_tokens : 0;
  auto fits = [&](const ChatPrompt& p) {
    return context_length_ <= 0 || static_cast<int64_t>(p.ids.size()) + reserve <= context_length_;
  };
  ChatPrompt prompt = render(messages());
  if (fits(prompt)) return prompt;

  // Drop the oldest turns from a copy, so that the history is untouched when nothing fits.
  ojson kept = history_;
  size_t dropped = 0;
  for (;;) {
    const size_t start = second_turn_start(kept);
    if (start == 0) {
      throw Error(
          "the conversation does not fit in the model's context: the latest turn alone makes a prompt of " +
          std::to_string(prompt.ids.size()) + " tokens, plus " + std::to_string(reserve) +
          " new tokens (-n) is more than the context length " + std::to_string(context_length_));
    }
    kept.erase(kept.begin(), kept.begin() + static_cast<std::ptrdiff_t>(start));
    dropped += start;
    prompt = render(with_system(kept));
    if (fits(prompt)) break;
  }
  history_ = std::move(kept);
  prompt.dropped_messages = dropped;
  return prompt;
}

}  // namespace ortlm::cli
