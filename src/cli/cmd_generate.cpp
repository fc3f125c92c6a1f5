// `ortlm generate [MODEL] -p TEXT | --ids 1,2,3 [-n N] [--greedy | --temperature T ...] [--json]`
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/session_defaults.hpp"
#include "cli/token_ids.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"

namespace ortlm::cli {

namespace {

struct GenerateArgs {
  std::string model;
  std::vector<std::string> prompts;
  std::vector<std::string> ids;  // comma-separated lists
  GenerationOptions options;
  bool json = false;
  bool ignore_eos = false;
  bool sampling_flag_given = false;
  int32_t warmup_tokens = 0;
  SessionOptions session = default_session_options();
};

nlohmann::json to_json(const std::string& prompt, const GenerationResult& r) {
  return {{"prompt", prompt},
          {"prompt_ids", r.prompt_ids},
          {"new_ids", r.new_ids},
          {"text", r.text},
          {"stop_reason", to_string(r.stop_reason)},
          {"prefill_ms", r.prefill_seconds * 1e3},
          {"decode_ms", r.decode_seconds * 1e3},
          {"tokens_per_second", r.decode_tokens_per_second()}};
}

void run_generate(GenerateArgs& args) {
  if (args.prompts.empty() && args.ids.empty())
    throw Error("give a prompt with -p TEXT or token ids with --ids 1,2,3");
  const auto model = Model::load(
      args.model.empty() ? default_model_path() : std::filesystem::path(args.model), args.session);
  Generator generator(model);
  GenerationOptions options = args.options;
  if (!args.sampling_flag_given) options.greedy = true;
  options.stop_at_eos = !args.ignore_eos;
  const Tokenizer* tokenizer = model->tokenizer();

  auto run_one = [&](const std::string& prompt_text, const std::vector<int32_t>* ids) {
    GenerationResult result;
    if (args.warmup_tokens > 0) {  // an untimed run first, as benchmarks of warm engines do
      GenerationOptions warmup = options;
      warmup.max_new_tokens = args.warmup_tokens;
      ids ? generator.generate(*ids, warmup) : generator.generate(prompt_text, warmup);
    }
    if (args.json) {
      result = ids ? generator.generate(*ids, options) : generator.generate(prompt_text, options);
      std::printf("%s\n", to_json(prompt_text, result)
                              .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)
                              .c_str());
      return;
    }
    // The prompt is echoed once generation has accepted it (so bad ids are reported, not decoded).
    bool echoed = false;
    auto echo_prompt = [&] {
      if (echoed) return;
      echoed = true;
      if (ids && tokenizer)
        std::fputs(tokenizer->decode(*ids, true).c_str(), stdout);
      else
        std::fputs(prompt_text.c_str(), stdout);
    };
    auto stream = [&](int32_t id, std::string_view text) {
      echo_prompt();
      if (!tokenizer && id >= 0) std::printf(" %d", id);  // no tokenizer: print the ids
      std::fwrite(text.data(), 1, text.size(), stdout);
      std::fflush(stdout);
      return true;
    };
    result =
        ids ? generator.generate(*ids, options, stream) : generator.generate(prompt_text, options, stream);
    echo_prompt();
    std::printf("\n");
    std::fflush(stdout);
    std::fprintf(stderr, "[%zu prompt + %zu new tokens, stop: %s | prefill %.1f ms | decode %.1f tokens/s]\n",
                 result.prompt_ids.size(), result.new_ids.size(), to_string(result.stop_reason),
                 result.prefill_seconds * 1e3, result.decode_tokens_per_second());
  };
  for (const auto& prompt : args.prompts) run_one(prompt, nullptr);
  for (const auto& list : args.ids) {
    const auto ids = parse_token_ids(list, "--ids");
    run_one(list, &ids);
  }
}

}  // namespace

void register_generate(CLI::App& app) {
  static GenerateArgs args;
  auto* cmd = app.add_subcommand("generate",
                                 "Generate text with a KV cache (greedy unless a sampling flag is given)");
  cmd->add_option("model", args.model, "Model folder or .onnx file (default: the bundled model)");
  cmd->add_option("-p,--prompt", args.prompts, "Prompt text (repeatable; \"\" starts from BOS)");
  cmd->add_option("--ids", args.ids, "Prompt as comma-separated token ids (repeatable)");
  cmd->add_option("-n,--max-new-tokens", args.options.max_new_tokens, "Tokens to generate at most")
      ->capture_default_str();
  cmd->add_flag("--greedy", args.options.greedy, "Always take the most likely token");
  auto sampling = [](CLI::Option* o) {
    o->each([](const std::string&) { args.sampling_flag_given = true; });
    return o;
  };
  sampling(cmd->add_option("--temperature", args.options.temperature, "Sampling temperature"));
  sampling(cmd->add_option("--top-k", args.options.top_k, "Keep the K most likely tokens (0 = off)"));
  sampling(cmd->add_option("--top-p", args.options.top_p, "Nucleus sampling mass (1 = off)"));
  sampling(cmd->add_option("--min-p", args.options.min_p, "Drop tokens below min-p x the top probability"));
  sampling(cmd->add_option("--seed", args.options.seed, "Random seed"));
  cmd->add_option("--repetition-penalty", args.options.repetition_penalty, "Penalty for tokens already seen");
  cmd->add_option("--stop", args.options.stop_strings,
                  "Stop when the text contains this string (repeatable)");
  cmd->add_option("--stop-id", args.options.stop_token_ids, "Stop at this token id (repeatable)");
  cmd->add_flag("--ignore-eos", args.ignore_eos, "Do not stop at the model's EOS tokens");
  cmd->add_option("--warmup", args.warmup_tokens, "Generate this many tokens untimed first (benchmarks)");
  cmd->add_flag("--json", args.json, "Print one JSON object per prompt (ids, text, stop reason, timings)");
  add_session_flags(cmd, args.session);
  cmd->add_option("--optimization-level", args.session.graph_optimization_level,
                  "ONNX Runtime graph optimization: 0, 1, 2 or 99 (all)")
      ->capture_default_str();
  cmd->callback([] { run_generate(args); });
}

}  // namespace ortlm::cli
