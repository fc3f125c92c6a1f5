// `ortlm generate [MODEL] -p TEXT | -f FILE | --ids 1,2,3 | --prompts FILE [-n N] [--greedy | --temperature T
// ...] [--json]`. One prompt streams its text; several run as one batch (--batch-size rows per pass)
// and print in the order given. With none of -p, -f, --ids and --prompts, the prompt is read from
// standard input when it is not a terminal.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <map>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/generation_flags.hpp"
#include "cli/output.hpp"
#include "cli/prompts_file.hpp"
#include "cli/session_defaults.hpp"
#include "cli/token_ids.hpp"
#include "ortlm/engine.hpp"
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
  std::string prompts_file;               // --prompts: one prompt per line, or JSON lines
  int32_t batch_size = 16;
  GenerationFlags flags;
  bool json = false;
  bool display_prompt = true;
  int32_t warmup_tokens = 0;
  SessionOptions session = default_session_options();
  // --kv, --kv-mib (paged where the graph allows it: it decodes faster); --prompts runs batch_size rows.
  EngineOptions engine{.max_batch_rows = 1, .kv_cache = KvCacheKind::automatic};
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
  if (texts.empty() && args.ids.empty() && args.prompts_file.empty()) {
    if (::isatty(STDIN_FILENO))
      throw Error(
          "give a prompt with -p TEXT, -f FILE, token ids with --ids 1,2,3 or --prompts FILE (or pipe it "
          "in)");
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
    validate(options_, model_->config().vocab_size);  // stop ids against the vocabulary, before any output
    generator_.emplace(model_, args.engine);          // the session it runs is rewritten and verified now
    times_.load_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }

  void run(const std::vector<PromptSpec>& specs) {
    if (args_.warmup_tokens > 0) {  // an untimed run first, as benchmarks of warm engines do
      GenerationOptions warmup = specs.front().options;
      warmup.max_new_tokens = args_.warmup_tokens;
      generate(specs.front(), warmup, {});
    }
    if (specs.size() == 1)
      run_one(specs.front());
    else
      run_batch(specs);
  }

 private:
  void run_one(const PromptSpec& spec) {
    if (args_.json) {
      const auto result = generate(spec, spec.options, {});
      write_lines(0, result_json_lines(spec.text, result, spec.options, times_));
      return;
    }
    // The prompt is echoed once generation has accepted it (so bad ids are reported, not decoded).
    const Tokenizer* tokenizer = model_->tokenizer();
    bool echoed = false;
    auto echo_prompt = [&] {
      if (echoed) return;
      echoed = true;
      write_out(displayed_prompt(spec));
    };
    auto stream = [&](int32_t id, std::string_view text) {
      echo_prompt();
      if (!tokenizer && id >= 0) write_out(" " + std::to_string(id));  // no tokenizer: print the ids
      write_out(text);
      flush_out();  // a write error (full disk, closed pipe) stops generation at once
      return true;
    };
    const auto result = generate(spec, spec.options, stream);
    echo_prompt();
    write_out("\n");
    write_other_sequences(spec, result);
    flush_out();
    print_stats_line(result, spec.options, times_);
  }

  std::string displayed_prompt(const PromptSpec& spec) const {
    if (!args_.display_prompt) return {};
    return spec.ids && model_->tokenizer() ? model_->tokenizer()->decode(*spec.ids, true) : spec.text;
  }

  // Beam search's other returned sequences, after the best one, numbered from 2.
  void write_other_sequences(const PromptSpec& spec, const GenerationResult& result) {
    for (size_t i = 1; i < result.sequences.size(); ++i)
      write_out("[" + std::to_string(i + 1) + "] " + displayed_prompt(spec) + result.sequences[i].text +
                "\n");
  }

  // One line, or one per returned sequence (then each says its prompt: several prompts or not).
  static void write_lines(size_t prompt_index, const std::vector<nlohmann::ordered_json>& lines) {
    if (lines.size() == 1) return write_line(lines.front());
    for (const auto& json : lines) {
      nlohmann::ordered_json line{{"prompt_index", prompt_index}};
      line.update(json);
      write_line(line);
    }
  }

  // All prompts in one engine; a prompt the engine refuses (too long, bad ids) fails alone.
  void run_batch(const std::vector<PromptSpec>& specs) {
    EngineOptions engine_options = args_.engine;
    engine_options.max_batch_rows = args_.batch_size;
    Engine engine(model_, engine_options);
    std::vector<std::optional<RequestId>> requests(specs.size());
    std::vector<std::string> errors(specs.size());
    for (size_t i = 0; i < specs.size(); ++i) {
      try {
        requests[i] = specs[i].ids ? engine.add_request(*specs[i].ids, specs[i].options)
                                   : engine.add_request(specs[i].text, specs[i].options);
      } catch (const Error& e) {
        errors[i] = e.what();
      }
    }
    const auto start = std::chrono::steady_clock::now();
    std::map<RequestId, GenerationResult> results;
    for (auto& [id, result] : engine.run()) results.emplace(id, std::move(result));
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    size_t failed = 0, new_tokens = 0;
    for (size_t i = 0; i < specs.size(); ++i) {
      GenerationResult* result = requests[i] ? &results.at(*requests[i]) : nullptr;
      if (result && result->stop_reason == StopReason::error) errors[i] = result->error;
      failed += !errors[i].empty();
      if (result) new_tokens += result->new_ids.size();
      if (args_.json) {
        std::vector<nlohmann::ordered_json> lines{nlohmann::ordered_json{}};
        if (result) {
          lines = result_json_lines(specs[i].text, *result, specs[i].options, times_);
        } else {
          lines[0]["prompt"] = specs[i].text;
          lines[0]["error"] = errors[i];
        }
        for (const auto& json : lines) {
          nlohmann::ordered_json line{{"prompt_index", i}};
          line.update(json);
          write_line(line);
        }
      } else if (!result) {
        std::fprintf(stderr, "ortlm: error: prompt %zu: %s\n", i + 1, errors[i].c_str());
      } else {
        write_out(displayed_prompt(specs[i]) + result->text + "\n");
        write_other_sequences(specs[i], *result);
        flush_out();
        if (!errors[i].empty())
          std::fprintf(stderr, "ortlm: error: prompt %zu: %s\n", i + 1, errors[i].c_str());
        print_stats_line(*result, specs[i].options, times_);
      }
    }
    if (!args_.json)
      std::fprintf(stderr,
                   "[batch of %zu prompts, up to %d per pass: %zu new tokens in %.1f ms, %.1f tokens/s]\n",
                   specs.size(), args_.batch_size, new_tokens, seconds * 1e3,
                   seconds > 0 ? static_cast<double>(new_tokens) / seconds : 0.0);
    if (failed > 0)
      throw Error(std::to_string(failed) + " of " + std::to_string(specs.size()) + " prompts failed");
  }

  static void write_line(const nlohmann::ordered_json& json) {
    write_out(json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n");
    flush_out();
  }

  GenerationResult generate(const PromptSpec& spec, const GenerationOptions& options,
                            const TokenCallback& stream) {
    return spec.ids ? generator_->generate(*spec.ids, options, stream)
                    : generator_->generate(spec.text, options, stream);
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
  std::vector<PromptSpec> specs;
  for (auto& text : prompt_texts(args))
    specs.push_back({.text = std::move(text), .ids = std::nullopt, .options = options});
  for (size_t i = 0; i < id_lists.size(); ++i)
    specs.push_back({.text = args.ids[i], .ids = std::move(id_lists[i]), .options = options});
  if (!args.prompts_file.empty()) {
    auto more = read_prompts_file(args.prompts_file, options);
    std::move(more.begin(), more.end(), std::back_inserter(specs));
  }
  GenerateCommand command(args, options);
  command.run(specs);
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
  cmd->add_option("--prompts", args.prompts_file,
                  "Prompts from FILE, one per line, or JSON lines with per-prompt settings (- = stdin)");
  cmd->add_option("--batch-size", args.batch_size,
                  "Sequences per forward pass when several prompts are given")
      ->capture_default_str()
      ->check(CLI::Range(1, kMaxBatchRows));
  add_generation_flags(cmd, args.flags);
  cmd->add_flag("!--no-display-prompt", args.display_prompt, "Print only the generated text, not the prompt");
  cmd->add_option("--warmup", args.warmup_tokens, "Generate this many tokens untimed first (benchmarks)")
      ->check(CLI::Range(0, 1 << 20));
  cmd->add_flag("--json", args.json,
                "Print one JSON object per prompt (ids, text, stop reason, seed, timings)");
  add_session_flags(cmd, args.session);
  add_kv_flags(cmd, args.engine);
  cmd->add_option("--optimization-level", args.session.graph_optimization_level,
                  "ONNX Runtime graph optimization: 0, 1, 2 or 99 (all)")
      ->capture_default_str()
      ->check(CLI::IsMember({0, 1, 2, 99}));
  cmd->callback([] { run_generate(args); });
}

}  // namespace ortlm::cli
