#include "cli/generation_flags.hpp"

#include <cstdio>

#include "ortlm/error.hpp"

namespace ortlm::cli {

void add_generation_flags(CLI::App* cmd, GenerationFlags& flags) {
  GenerationOptions& o = flags.options;
  auto sampling = [&flags](CLI::Option* option) {
    option->each([&flags](const std::string&) { flags.sampling_flag_given = true; });
  };
  cmd->add_option("-n,--max-new-tokens", o.max_new_tokens, "Tokens to generate at most")
      ->capture_default_str();
  cmd->add_flag("--greedy", o.greedy, "Always take the most likely token");
  sampling(cmd->add_option("--temperature", o.temperature, "Sampling temperature: 0 (greedy) or 0.001-1000"));
  sampling(cmd->add_option("--top-k", o.top_k, "Keep the K most likely tokens (0 = off)"));
  sampling(cmd->add_option("--top-p", o.top_p, "Nucleus sampling mass in (0, 1] (1 = off)"));
  sampling(cmd->add_option("--min-p", o.min_p, "Drop tokens below min-p x the top probability, in [0, 1]"));
  sampling(cmd->add_option_function<uint64_t>(
      "--seed", [&o](const uint64_t& seed) { o.seed = seed; },
      "Random seed (default: a random one, printed with the result)"));
  cmd->add_option("--repetition-penalty", o.repetition_penalty,
                  "Penalty for tokens already seen, in [0.01, 100] (1 = off)");
  cmd->add_option("--stop", o.stop_strings, "Stop when the text contains this string (repeatable)");
  cmd->add_option("--stop-id", o.stop_token_ids, "Stop at this token id (repeatable)");
  cmd->add_flag("--ignore-eos", flags.ignore_eos, "Do not stop at the model's EOS tokens");
}

GenerationOptions generation_options(const GenerationFlags& flags) {
  GenerationOptions options = flags.options;
  if (!flags.sampling_flag_given) options.greedy = true;
  options.stop_at_eos = !flags.ignore_eos;
  try {
    validate(options);
  } catch (const Error& e) {
    throw CLI::ValidationError(e.what());
  }
  return options;
}

nlohmann::ordered_json result_json(const std::string& prompt, const GenerationResult& result,
                                   const ResultTimes& times) {
  nlohmann::ordered_json json{{"prompt", prompt},
                              {"prompt_ids", result.prompt_ids},
                              {"new_ids", result.new_ids},
                              {"text", result.text},
                              {"stop_reason", to_string(result.stop_reason)},
                              {"seed", result.seed},
                              {"load_ms", times.load_seconds * 1e3},
                              {"prefill_ms", result.prefill_seconds * 1e3},
                              {"decode_ms", result.decode_seconds * 1e3},
                              {"tokens_per_second", result.decode_tokens_per_second()}};
  if (!result.error.empty()) json["error"] = result.error;
  return json;
}

void print_stats_line(const GenerationResult& result, const GenerationOptions& options,
                      const ResultTimes& times) {
  std::fprintf(stderr, "[%zu prompt + %zu new tokens, stop: %s, ", result.prompt_ids.size(),
               result.new_ids.size(), to_string(result.stop_reason));
  if (is_greedy(options))
    std::fprintf(stderr, "greedy | ");
  else
    std::fprintf(stderr, "seed %llu | ", static_cast<unsigned long long>(result.seed));
  if (times.load_seconds > 0) std::fprintf(stderr, "load %.0f ms | ", times.load_seconds * 1e3);
  std::fprintf(stderr, "prefill %.1f ms | decode %.1f tokens/s]\n", result.prefill_seconds * 1e3,
               result.decode_tokens_per_second());
}

}  // namespace ortlm::cli
