// `ortlm template`: render a conversation with a model's chat template and print the prompt exactly.
#include <cstdio>
#include <memory>
#include <optional>
#include <string>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/messages_file.hpp"
#include "ortlm/chat_template.hpp"
#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::cli {

namespace {

struct TemplateArgs {
  std::string model;
  std::string messages_path;
  std::string tools_path;
  std::string kwargs_json;
  std::string name;
  bool add_generation_prompt = false;
};

void run(const TemplateArgs& args) {
  std::optional<std::string> name;
  if (!args.name.empty()) name = args.name;
  std::filesystem::path model = args.model.empty() ? default_model_path() : std::filesystem::path(args.model);
  ChatTemplate chat = ChatTemplate::from_model_folder(model, name);

  // The messages file holds a list of messages, or an object {"messages", "tools", "documents", ...}.
  MessagesFile file = read_messages_file(args.messages_path);
  const nlohmann::ordered_json& messages = file.messages;
  ChatTemplateOptions options;
  options.tools = std::move(file.tools);
  options.documents = std::move(file.documents);
  if (!args.tools_path.empty()) options.tools = util::read_ordered_json_file(args.tools_path);
  if (!args.kwargs_json.empty()) {
    options.kwargs = util::parse_ordered_json(args.kwargs_json, "--kwargs");
    if (!options.kwargs.is_object()) throw Error("--kwargs must be a JSON object");
  }
  options.add_generation_prompt = args.add_generation_prompt;
  std::string prompt = chat.render(messages, options);
  std::fwrite(prompt.data(), 1, prompt.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

void register_template(CLI::App& app) {
  auto args = std::make_shared<TemplateArgs>();
  auto* cmd = app.add_subcommand("template", "Render a conversation with the model's chat template");
  cmd->add_option("model", args->model,
                  "Model folder, tokenizer_config.json or .jinja file (default: the bundled stories260k)");
  cmd->add_option("--messages", args->messages_path,
                  "JSON file: a list of messages, or {\"messages\", \"tools\"}")
      ->required();
  cmd->add_option("--tools", args->tools_path, "JSON file with a list of tool definitions");
  cmd->add_flag("--add-generation-prompt", args->add_generation_prompt,
                "End with the assistant turn's header");
  cmd->add_option("--kwargs", args->kwargs_json,
                  "Extra template variables as a JSON object, e.g. '{\"enable_thinking\": false}'");
  cmd->add_option("--name", args->name, "Which of several named templates to use (e.g. tool_use)");
  cmd->callback([args] { run(*args); });
}

}  // namespace ortlm::cli
