// `ortlm chat [MODEL]`: talk with a model through its chat template, interactively (lines from stdin)
// or for one reply to a conversation file (`--messages conv.json [--json]`).
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include "cli/chat_session.hpp"
#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/generation_flags.hpp"
#include "cli/messages_file.hpp"
#include "cli/session_defaults.hpp"
#include "ortlm/engine_options.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "util/file.hpp"
#include "util/utf8.hpp"

namespace ortlm::cli {

namespace {

using ojson = nlohmann::ordered_json;

struct ChatArgs {
  std::string model;
  std::string messages_path;
  std::string system;
  bool system_given = false;
  std::string template_name;
  std::string kwargs_json;
  GenerationFlags flags;
  GenerationOptions options;  // from the flags, checked
  bool json = false;
  // One row; the conversation so far is a cached prefix (--cache-mib); paged KV where the graph allows
  // it (it decodes faster).
  EngineOptions engine{.max_batch_rows = 1, .prefix_cache_mib = 256, .kv_cache = KvCacheKind::automatic};
  bool stats = false;
  SessionOptions session = default_session_options();

  ChatArgs() {  // a chat samples by default, as chat front ends do; --greedy or --num-beams turns it off
    flags.options.temperature = 0.7f;
    flags.options.top_p = 0.9f;
    flags.samples_by_default = true;
  }
};

// Ctrl-C while a reply is streaming ends that reply; at the prompt it ends the program as usual.
volatile std::sig_atomic_t g_generating = 0;
volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_sigint(int signal) {
  if (g_generating) {
    g_interrupted = 1;
    return;
  }
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

struct Chat {
  std::shared_ptr<Model> model;
  std::unique_ptr<Generator> generator;
  std::unique_ptr<ChatSession> session;
  ResultTimes times;  // the model's load time
};

Chat open_chat(const ChatArgs& args) {
  Chat chat;
  const std::filesystem::path path =
      args.model.empty() ? default_model_path() : std::filesystem::path(args.model);
  const auto start = std::chrono::steady_clock::now();
  chat.model = Model::load(path, args.session);
  validate(args.options, chat.model->config().vocab_size);  // stop ids against the vocabulary
  const Tokenizer* tokenizer = chat.model->tokenizer();
  if (!tokenizer)
    throw Error(chat.model->folder().string() + ": the model has no tokenizer.json; chat needs one");
  std::optional<std::string> name;
  if (!args.template_name.empty()) name = args.template_name;
  ChatTemplate chat_template = ChatTemplate::from_model_folder(chat.model->folder(), name);
  ChatTemplateOptions options;
  if (!args.kwargs_json.empty()) {
    options.kwargs = util::parse_ordered_json(args.kwargs_json, "--kwargs");
    if (!options.kwargs.is_object()) throw Error("--kwargs must be a JSON object");
  }
  // The conversation so far is a cached prefix: each turn computes only its new tokens.
  chat.generator = std::make_unique<Generator>(chat.model, args.engine);
  // Load time includes the session the generator runs, rewritten and verified when it is made.
  chat.times.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  chat.session = std::make_unique<ChatSession>(std::move(chat_template), *tokenizer,
                                               chat.model->config().context_length, std::move(options));
  return chat;
}

void report_dropped(const ChatPrompt& prompt) {
  if (prompt.dropped_messages > 0)
    std::fprintf(stderr, "[dropped the %zu oldest messages to fit the context]\n", prompt.dropped_messages);
}

// One reply to the conversation in a file, printed as text (and a newline) or as JSON.
void run_once(const ChatArgs& args, Chat& chat, MessagesFile file) {
  ojson messages = std::move(file.messages);
  if (args.system_given) {  // --system replaces the file's system message (or adds one)
    if (!messages.empty() && messages[0].is_object() && messages[0].value("role", "") == "system")
      messages.erase(0);
    if (!args.system.empty())
      messages.insert(messages.begin(), ojson{{"role", "system"}, {"content", args.system}});
  }
  try {
    chat.session->set_messages(messages);
  } catch (const Error& e) {
    throw Error(args.messages_path + ": " + e.what());
  }
  chat.session->set_tools(std::move(file.tools), std::move(file.documents));
  const ChatPrompt prompt = chat.session->build_prompt(args.options.max_new_tokens);
  report_dropped(prompt);
  if (args.json) {
    const GenerationResult result = chat.generator->generate(prompt.ids, args.options);
    for (const ojson& out : result_json_lines(prompt.text, result, args.options, chat.times))
      std::printf("%s\n", out.dump(-1, ' ', false, ojson::error_handler_t::replace).c_str());
    return;
  }
  chat.generator->generate(prompt.ids, args.options, [](int32_t, std::string_view text) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
    return true;
  });
  std::printf("\n");
}

std::string trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

// Handles a /command line; returns false for /exit.
bool run_command(const std::string& line, ChatSession& session, bool tty) {
  const size_t space = line.find_first_of(" \t");
  const std::string command = line.substr(0, space);
  const std::string rest = space == std::string::npos ? std::string() : trim(line.substr(space));
  if (command == "/exit" || command == "/quit") return false;
  if (command == "/reset" && rest.empty()) {
    session.reset();
    if (tty) std::fprintf(stderr, "[history cleared]\n");
  } else if (command == "/system") {
    session.set_system(rest);
    if (tty)
      std::fprintf(stderr, rest.empty() ? "[system message removed, history cleared]\n"
                                        : "[system message set, history cleared]\n");
  } else {
    std::fprintf(stderr, "ortlm: unknown command '%s' (commands: /reset, /system TEXT, /exit)\n",
                 line.c_str());
  }
  return true;
}

// Reads user lines from stdin and streams each reply to stdout, until /exit or the end of input.
void run_interactive(const ChatArgs& args, Chat& chat) {
  const bool tty = ::isatty(STDIN_FILENO) != 0;
  if (tty) {
    std::signal(SIGINT, on_sigint);
    std::fprintf(stderr, "[chat with %s; /reset, /system TEXT, /exit; Ctrl-C stops a reply]\n",
                 chat.model->folder().string().c_str());
  }
  if (args.system_given) chat.session->set_system(args.system);
  std::string line;
  for (;;) {
    if (tty) {
      std::fputs("> ", stderr);
      std::fflush(stderr);
    }
    if (!std::getline(std::cin, line)) {
      if (tty) std::fputs("\n", stderr);
      break;
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // A line that is not UTF-8 (e.g. a Latin-1 terminal) is refused, and the session goes on, as for
    // a reply that fails; the offset points the user at the culprit.
    if (const size_t bad = utf8::find_invalid(line); bad != std::string::npos) {
      std::fprintf(stderr, "ortlm: error: input line is not valid UTF-8 at byte offset %zu\n", bad);
      continue;
    }
    if (trim(line).empty()) continue;
    if (line[0] == '/') {
      if (!run_command(trim(line), *chat.session, tty)) break;
      continue;
    }
    chat.session->add_user(line);
    bool streamed = false;
    try {
      const ChatPrompt prompt = chat.session->build_prompt(args.options.max_new_tokens);
      report_dropped(prompt);
      g_interrupted = 0;
      g_generating = 1;
      const GenerationResult result =
          chat.generator->generate(prompt.ids, args.options, [&](int32_t, std::string_view text) {
            streamed = true;
            std::fwrite(text.data(), 1, text.size(), stdout);
            std::fflush(stdout);
            return g_interrupted == 0;
          });
      g_generating = 0;
      std::printf("\n");
      std::fflush(stdout);
      if (args.stats)
        std::fprintf(stderr, "[%zu prompt tokens, %zu from the cache; %zu new tokens, %.1f tok/s]\n",
                     result.prompt_ids.size(), result.cached_prompt_tokens, result.new_ids.size(),
                     result.decode_tokens_per_second());
      chat.session->add_assistant(result.text);
    } catch (const Error& e) {
      g_generating = 0;
      if (streamed) std::printf("\n");
      std::fflush(stdout);
      chat.session->drop_last();  // the user message goes unanswered: let the user try again
      std::fprintf(stderr, "ortlm: error: %s\n", e.what());
    }
  }
}

void run_chat(const ChatArgs& args) {
  if (!args.messages_path.empty()) {
    MessagesFile file = read_messages_file(args.messages_path);  // bad files fail before the model loads
    Chat chat = open_chat(args);
    run_once(args, chat, std::move(file));
  } else {
    Chat chat = open_chat(args);
    run_interactive(args, chat);
  }
}

}  // namespace

void register_chat(CLI::App& app) {
  auto args = std::make_shared<ChatArgs>();
  auto* cmd =
      app.add_subcommand("chat", "Chat with a model through its chat template (stdin lines, or --messages)");
  cmd->add_option("model", args->model, "Model folder or .onnx file (default: the bundled model)");
  cmd->add_option("--messages", args->messages_path,
                  "JSON file (a list of messages, or {\"messages\", \"tools\"}): print one reply and exit");
  cmd->add_flag("--json", args->json,
                "With --messages: print the reply as generate --json does (prompt, ids, text, stop reason, "
                "seed, timings)");
  auto* system = cmd->add_option("--system", args->system, "System message");
  cmd->add_option("--template-name", args->template_name, "Which of several named chat templates to use");
  cmd->add_option("--kwargs", args->kwargs_json, "Extra template variables as a JSON object");
  cmd->add_option("--cache-mib", args->engine.prefix_cache_mib,
                  "Prefix cache in MiB: each turn reuses the KV of the conversation so far (0 = off)")
      ->check(CLI::Range(0, kMaxPrefixCacheMib))
      ->capture_default_str();
  cmd->add_flag("--stats", args->stats,
                "After each reply, print on stderr its prompt tokens (and how many came from the cache), new "
                "tokens and speed");
  add_generation_flags(cmd, args->flags);
  add_session_flags(cmd, args->session);
  add_kv_flags(cmd, args->engine);
  cmd->callback([args, system] {
    args->system_given = system->count() > 0;
    if (args->json && args->messages_path.empty()) throw Error("--json needs --messages");
    args->options = generation_options(args->flags);
    run_chat(*args);
  });
}

}  // namespace ortlm::cli
