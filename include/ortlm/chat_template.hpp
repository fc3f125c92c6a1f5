#pragma once
// Chat templates: render a conversation into a model's prompt exactly as Hugging Face does
// (transformers' apply_chat_template with tokenize=False), with ortlm's own Jinja engine.
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace ortlm {

struct ChatTemplateOptions {
  bool add_generation_prompt = false;
  // JSON Schema tool definitions (a list) or null; passing tools selects a template named
  // "tool_use" when the model has one.
  nlohmann::ordered_json tools = nullptr;
  nlohmann::ordered_json documents = nullptr;  // RAG documents (a list) or null
  // Override the special tokens read from tokenizer_config.json.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  // Extra template variables, e.g. {"enable_thinking": false}.
  nlohmann::ordered_json kwargs = nlohmann::ordered_json::object();
};

class ChatTemplate {
 public:
  // The template of a model folder (or of a tokenizer_config.json / .jinja file path):
  // chat_template.jinja, else chat_template.json, else tokenizer_config.json's "chat_template"
  // (a string, or a list of {"name", "template"}). `name` picks one of several named templates
  // (default: "tool_use" when tools are passed and it exists, else "default"). A model without a
  // template gets the plain fallback described in docs/chat.md. Special tokens (bos_token, ...)
  // come from tokenizer_config.json. Throws ortlm::Error (file, JSON or template syntax errors).
  static ChatTemplate from_model_folder(const std::filesystem::path& path,
                                        std::optional<std::string> name = {});
  // One template from its source text. Throws ortlm::Error with line:column on a syntax error.
  static ChatTemplate from_string(const std::string& source);
  // The plain fallback: "role: content\n" per message, "assistant: " as the generation prompt.
  static ChatTemplate fallback();

  // `messages` is a list of {"role", "content", ...} as Hugging Face takes them (content a string
  // or a list of typed parts; tool_calls; tool results). Throws ortlm::Error with line:column when
  // the template fails (including raise_exception).
  std::string render(const nlohmann::ordered_json& messages, const ChatTemplateOptions& options = {}) const;

  bool is_fallback() const;
  // Names of the templates (one "default" for a single template).
  std::vector<std::string> names() const;
  // The source of the template render() would use with these options.
  const std::string& source(const ChatTemplateOptions& options = {}) const;
  // Special tokens passed to the template (bos_token, eos_token, unk_token, pad_token, ...).
  const std::map<std::string, std::string>& special_tokens() const;

  ~ChatTemplate();
  ChatTemplate(const ChatTemplate&);
  ChatTemplate& operator=(const ChatTemplate&);
  ChatTemplate(ChatTemplate&&) noexcept;
  ChatTemplate& operator=(ChatTemplate&&) noexcept;

 private:
  struct Impl;
  explicit ChatTemplate(std::shared_ptr<const Impl> impl);
  std::shared_ptr<const Impl> impl_;
};

}  // namespace ortlm
