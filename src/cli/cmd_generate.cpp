// `ortlm generate [MODEL] -p TEXT | -f FILE | --ids 1,2,3 [-n N] [--greedy | --temperature T ...] [--json]`
// With none of -p, -f and --ids, the prompt is read from standard input when it is not a terminal.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/generation_flags.hpp"
#include "cli/output.hpp"
#include "cli/session_defaults.hpp"
#include "cli/token_ids.hpp"
#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::cli {

namespace {

// A prompt file larger than this cannot fit any context; reading it whole would only waste memory.
constexpr size_t kMaxPromptFileBytes = size_t{64} << 20;

struct GenerateArgs {
  std::string model;
  std::vector<std::string> prompts;
  std::vector<std::string> prompt_files;  // "-" = standard input
  std::vector<std::string> ids;           // comma-separated lists
  GenerationFlags flags;
  bool json = false;
  bool display_prompt = true;
  int32_t warmup_tokens = 0;
  SessionOptions session = default_session_options();
};

std::string read_prompt_file(const std::string& name) {
  std::string text;
  if (name == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), {});
    if (text.size() > kMaxPromptFileBytes)
      throw Error("standard input: the prompt is larger than 64 MiB, more than any context holds");
    return text;
  }
  std::error_code ec;
  const auto size = std::filesystem::file_size(name, ec);
  if (!ec && size > kMaxPromptFileBytes)
    throw Error(name + ": the prompt is " + std::to_string(size) +
                " bytes, more than the 64 MiB any context holds");
  return util::read_file(name);
}

// The prompts in the order given: -p texts, then -f files; stdin when nothing else gives one.
std::vector<std::string> prompt_texts(const GenerateArgs& args) {
  std::vector<std::string> texts = args.prompts;
  for (const auto& file : args.prompt_files) texts.push_back(read_prompt_file(file));
  if (texts.empty() && args.ids.empty()) {
    if (::isatty(STDIN_FILENO))
      throw Error("give a prompt with -p TEXT, -f FILE or token ids with --ids 1,2,3 (or pipe it in)");
    texts.push_back(read_prompt_file("-"));
    if (texts.back().empty())  // a forgotten prompt, not a request to start from BOS (-p "" is that)
      throw Error("standard input was empty: give a prompt with -p TEXT, -f FILE or --ids 1,2,3");
  }
  return texts;
}

class GenerateCommand {
 public:
  GenerateCommand(const GenerateArgs& args, GenerationOptions options)
      : args_(args), options_(std::move(options)) {
    const auto start = std::chrono::steady_clock::now();
    model_ = Model::load(args.model.empty() ? default_model_path() : std::filesystem::path(args.model),
                         args.session);
    times_.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    validate(options_, model_->config().vocab_size);  // stop ids against the vocabulary, before any output
    generator_.emplace(model_);
  }

  // `ids` is null for a text prompt.
  void run(const std::string& prompt_text, const std::vector<int32_t>* ids) {
    if (args_.warmup_tokens > 0) {  // an untimed run first, as benchmarks of warm engines do
      GenerationOptions warmup = options_;
      warmup.max_new_tokens = args_.warmup_tokens;
      generate(prompt_text, ids, warmup, {});
    }
    if (args_.json) {
      const auto result = generate(prompt_text, ids, options_, {});
      write_out(result_json(prompt_text, result, times_)
                    .dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) +
                "\n");
      flush_out();
      return;
    }
    // The prompt is echoed once generation has accepted it (so bad ids are reported, not decoded).
    const Tokenizer* tokenizer = model_->tokenizer();
    bool echoed = !args_.display_prompt;
    auto echo_prompt = [&] {
      if (echoed) return;
      echoed = true;
      write_out(ids && tokenizer ? tokenizer->decode(*ids, true) : prompt_text);
    };
    auto stream = [&](int32_t id, std::string_view text) {
      echo_prompt();
      if (!tokenizer && id >= 0) write_out(" " + std::to_string(id));  // no tokenizer: print the ids
      write_out(text);
      flush_out();  // a write error (full disk, closed pipe) stops generation at once
      return true;
    };
    const auto result = generate(prompt_text, ids, options_, stream);
    echo_prompt();
    write_out("\n");
    flush_out();
    print_stats_line(result, options_, times_);
  }

 private:
  GenerationResult generate(const std::string& text, const std::vector<int32_t>* ids,
                            const GenerationOptions& options, const TokenCallback& stream) {
    return ids ? generator_->generate(*ids, options, stream) : generator_->generate(text, options, stream);
  }

  const GenerateArgs& args_;
  GenerationOptions options_;
  std::shared_ptr<Model> model_;
  std::optional<Generator> generator_;
  ResultTimes times_;
};

void run_generate(const GenerateArgs& args) {
  const GenerationOptions options = generation_options(args.flags);  // usage errors before any work
  std::vector<std::vector<int32_t>> id_lists;
  try {
    for (const auto& list : args.ids) id_lists.push_back(parse_token_ids(list, "--ids"));
  } catch (const Error& e) {
    throw CLI::ValidationError(e.what());
  }
  const auto texts = prompt_texts(args);
  GenerateCommand command(args, options);
  for (const auto& text : texts) command.run(text, nullptr);
  for (size_t i = 0; i < id_lists.size(); ++i) command.run(args.ids[i], &id_lists[i]);
}

}  // namespace

void register_generate(CLI::App& app) {
  static GenerateArgs args;
  auto* cmd = app.add_subcommand("generate",
                                 "Generate text with a KV cache (greedy unless a sampling flag is given)");
  cmd->add_option("model", args.model, "Model folder or .onnx file (default: the bundled model)");
  cmd->add_option("-p,--prompt", args.prompts, "Prompt text (repeatable; \"\" starts from BOS)");
  cmd->add_option("-f,--file", args.prompt_files,
                  "Read the prompt from FILE (- = standard input; repeatable)");
  cmd->add_option("--ids", args.ids, "Prompt as comma-separated token ids (repeatable)");
  add_generation_flags(cmd, args.flags);
  cmd->add_flag("!--no-display-prompt", args.display_prompt, "Print only the generated text, not the prompt");
  cmd->add_option("--warmup", args.warmup_tokens, "Generate this many tokens untimed first (benchmarks)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_flag("--json", args.json,
                "Print one JSON object per prompt (ids, text, stop reason, seed, timings)");
  add_session_flags(cmd, args.session);
  cmd->add_option("--optimization-level", args.session.graph_optimization_level,
                  "ONNX Runtime graph optimization: 0, 1, 2 or 99 (all)")
      ->capture_default_str()
      ->check(CLI::IsMember({0, 1, 2, 99}));
  cmd->callback([] { run_generate(args); });
}

}  // namespace ortlm::cli
