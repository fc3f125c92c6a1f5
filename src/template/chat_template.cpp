// ortlm::ChatTemplate: finding a model's chat template(s) and special tokens, choosing a template
// the way transformers does, and rendering with the variables apply_chat_template passes.
#include "ortlm/chat_template.hpp"

#include <algorithm>

#include "ortlm/error.hpp"
#include "template/template.hpp"
#include "util/file.hpp"

namespace ortlm {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

// Used when a model has no template (documented in docs/chat.md). `{{ '\n' }}` because
// trim_blocks would eat a literal newline after a tag.
constexpr const char* kFallbackTemplate =
    "{% for message in messages %}{{ message.role }}: "
    "{% if message.content is string %}{{ message.content }}"
    "{% elif message.content is iterable %}{% for part in message.content %}"
    "{% if part.type == 'text' %}{{ part.text }}{% endif %}{% endfor %}{% endif %}{{ '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}";

// The special-token attributes transformers passes to templates.
constexpr const char* kSpecialTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};

}  // namespace

struct ChatTemplate::Impl {
  std::vector<std::pair<std::string, std::shared_ptr<const tpl::Template>>> templates;
  std::optional<std::string> chosen;  // a name fixed at load time
  std::map<std::string, std::string> special_tokens;
  bool fallback = false;

  void add(const std::string& name, const std::string& source, const std::string& origin) {
    templates.emplace_back(name, std::make_shared<tpl::Template>(source, origin));
  }

  const tpl::Template& select(const ChatTemplateOptions& options) const {
    auto find = [&](const std::string& name) -> const tpl::Template* {
      for (const auto& [n, t] : templates)
        if (n == name) return t.get();
      return nullptr;
    };
    if (templates.size() == 1 && !chosen) return *templates.front().second;
    if (chosen) {
      if (const auto* t = find(*chosen)) return *t;
      std::string known;
      for (const auto& entry : templates) known += (known.empty() ? "" : ", ") + entry.first;
      throw Error("no chat template named '" + *chosen + "' (the model has: " + known + ")");
    }
    if (!options.tools.is_null())
      if (const auto* t = find("tool_use")) return *t;
    if (const auto* t = find("default")) return *t;
    std::string known;
    for (const auto& entry : templates) known += (known.empty() ? "" : ", ") + entry.first;
    throw Error("the model has several chat templates and none is named 'default'; choose one of: " + known);
  }
};

ChatTemplate::ChatTemplate(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
ChatTemplate::~ChatTemplate() = default;
ChatTemplate::ChatTemplate(const ChatTemplate&) = default;
ChatTemplate& ChatTemplate::operator=(const ChatTemplate&) = default;
ChatTemplate::ChatTemplate(ChatTemplate&&) noexcept = default;
ChatTemplate& ChatTemplate::operator=(ChatTemplate&&) noexcept = default;

ChatTemplate ChatTemplate::from_string(const std::string& source) {
  auto impl = std::make_shared<Impl>();
  impl->add("default", source, "template");
  return ChatTemplate(std::move(impl));
}

ChatTemplate ChatTemplate::fallback() {
  auto impl = std::make_shared<Impl>();
  impl->add("default", kFallbackTemplate, "fallback template");
  impl->fallback = true;
  return ChatTemplate(std::move(impl));
}

ChatTemplate ChatTemplate::from_model_folder(const fs::path& path, std::optional<std::string> name) {
  auto impl = std::make_shared<Impl>();
  fs::path folder = path, config_path = path / "tokenizer_config.json";
  fs::path jinja_path = path / "chat_template.jinja";
  if (fs::is_regular_file(path)) {
    folder = path.parent_path();
    config_path = path.extension() == ".json" ? path : folder / "tokenizer_config.json";
    jinja_path = path.extension() == ".json" ? folder / "chat_template.jinja" : path;
  } else if (!fs::is_directory(path)) {
    throw Error(path.string() + ": no such model folder or file");
  }
  ojson config = fs::exists(config_path) ? util::read_ordered_json_file(config_path) : ojson::object();
  if (!config.is_object()) throw Error(config_path.string() + ": expected a JSON object");
  for (const char* key : kSpecialTokens) {
    auto it = config.find(key);
    if (it == config.end()) continue;
    // A string, or an AddedToken dict {"content": ...}; empty / null means none.
    std::string value;
    if (it->is_string())
      value = it->get<std::string>();
    else if (it->is_object() && it->contains("content") && (*it)["content"].is_string())
      value = (*it)["content"].get<std::string>();
    if (!value.empty()) impl->special_tokens[key] = value;
  }
  // Sources in transformers' order of precedence.
  fs::path json_path = folder / "chat_template.json";
  if (fs::is_regular_file(jinja_path)) {
    impl->add("default", util::read_file(jinja_path), jinja_path.filename().string());
    fs::path extra = folder / "additional_chat_templates";
    if (fs::is_directory(extra)) {
      std::vector<fs::path> files;
      for (const auto& entry : fs::directory_iterator(extra))
        if (entry.path().extension() == ".jinja") files.push_back(entry.path());
      std::sort(files.begin(), files.end());
      for (const auto& file : files)
        impl->add(file.stem().string(), util::read_file(file),
                  "additional_chat_templates/" + file.filename().string());
    }
  } else {
    ojson source;
    std::string origin;
    if (fs::is_regular_file(json_path)) {
      ojson doc = util::read_ordered_json_file(json_path);
      if (doc.is_object() && doc.contains("chat_template")) source = doc["chat_template"];
      origin = "chat_template.json";
    } else if (config.contains("chat_template")) {
      source = config["chat_template"];
      origin = config_path.filename().string();
    }
    if (source.is_string()) {
      impl->add("default", source.get<std::string>(), origin);
    } else if (source.is_array()) {
      for (const auto& entry : source) {
        if (!entry.is_object() || !entry.contains("name") || !entry.contains("template") ||
            !entry["name"].is_string() || !entry["template"].is_string())
          throw Error(origin + ": chat_template must be a list of objects with \"name\" and \"template\"");
        std::string n = entry["name"].get<std::string>();
        impl->add(n, entry["template"].get<std::string>(), origin + " (" + n + ")");
      }
    } else if (!source.is_null()) {
      throw Error(origin + ": chat_template must be a string or a list of named templates");
    }
  }
  if (impl->templates.empty()) {
    impl->add("default", kFallbackTemplate, "fallback template");
    impl->fallback = true;
  }
  impl->chosen = std::move(name);
  if (impl->chosen) impl->select({});  // fail early on an unknown name
  return ChatTemplate(std::move(impl));
}

std::string ChatTemplate::render(const ojson& messages, const ChatTemplateOptions& options) const {
  if (!messages.is_array()) throw Error("messages must be a JSON list");
  if (!options.kwargs.is_object()) throw Error("template kwargs must be a JSON object");
  // The variables transformers' apply_chat_template passes, in its order; kwargs override.
  ojson context = ojson::object();
  context["messages"] = messages;
  context["add_generation_prompt"] = options.add_generation_prompt;
  context["tools"] = options.tools;
  context["documents"] = options.documents;
  for (const auto& [key, value] : impl_->special_tokens) context[key] = value;
  if (options.bos_token) context["bos_token"] = *options.bos_token;
  if (options.eos_token) context["eos_token"] = *options.eos_token;
  for (const auto& [key, value] : options.kwargs.items()) context[key] = value;
  return impl_->select(options).render(context);
}

bool ChatTemplate::is_fallback() const { return impl_->fallback; }

std::vector<std::string> ChatTemplate::names() const {
  std::vector<std::string> out;
  for (const auto& entry : impl_->templates) out.push_back(entry.first);
  return out;
}

const std::string& ChatTemplate::source(const ChatTemplateOptions& options) const {
  return impl_->select(options).source();
}

const std::map<std::string, std::string>& ChatTemplate::special_tokens() const {
  return impl_->special_tokens;
}

}  // namespace ortlm
