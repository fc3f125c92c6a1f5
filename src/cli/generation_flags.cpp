#include "cli/generation_flags.hpp"

#include <cstdio>
#include <cstdlib>
#include <utility>

#include "cli/token_ids.hpp"
#include "ortlm/error.hpp"

namespace ortlm::cli {

namespace {

// "ID=BIAS", e.g. "13=-100"; the ranges are validate()'s.
std::pair<int32_t, float> parse_logit_bias(const std::string& entry) {
  const size_t equals = entry.find('=');
  const auto fail = [&entry]() -> void {
    throw Error("--logit-bias: expected ID=BIAS (a token id, '=', a number), not '" + entry + "'");
  };
  if (equals == std::string::npos) fail();
  const auto ids = parse_token_ids(entry.substr(0, equals), "--logit-bias");
  if (ids.size() != 1) fail();
  const std::string bias_text = entry.substr(equals + 1);
  char* end = nullptr;
  const float bias = std::strtof(bias_text.c_str(), &end);
  if (bias_text.empty() || end != bias_text.c_str() + bias_text.size()) fail();
  return {ids[0], bias};
}

}  // namespace

void add_generation_flags(CLI::App* cmd, GenerationFlags& flags) {
  GenerationOptions& o = flags.options;
  auto sampling = [&flags](CLI::Option* option) {
    option->each([&flags](const std::string&) { flags.sampling_flag_given = true; });
  };
  cmd->add_option("-n,--max-new-tokens", o.max_new_tokens, "Tokens to generate at most")
      ->capture_default_str();
  cmd->add_option("--max-length", o.max_length,
                  "Total tokens, prompt included, at most (0 = unset; the tighter of it and -n wins)");
  cmd->add_flag("--greedy", o.greedy, "Always take the most likely token");
  sampling(cmd->add_option("--temperature", o.temperature, "Sampling temperature: 0 (greedy) or 0.001-1000"));
  sampling(cmd->add_option("--top-k", o.top_k, "Keep the K most likely tokens (0 = off)"));
  sampling(cmd->add_option("--top-p", o.top_p, "Nucleus sampling mass in (0, 1] (1 = off)"));
  sampling(cmd->add_option("--min-p", o.min_p, "Drop tokens below min-p x the top probability, in [0, 1]"));
  sampling(cmd->add_option("--typical-p", o.typical_p, "Typical sampling mass in (0, 1] (1 = off)"));
  sampling(cmd->add_option_function<uint64_t>(
      "--seed", [&o](const uint64_t& seed) { o.seed = seed; },
      "Random seed (default: a random one, printed with the result)"));
  cmd->add_option("--repetition-penalty", o.repetition_penalty,
                  "Penalty for tokens already seen, in [0.01, 100] (1 = off)");
  cmd->add_option("--presence-penalty", o.presence_penalty,
                  "Subtracted from the logit of each token generated so far, in [-2, 2]");
  cmd->add_option("--frequency-penalty", o.frequency_penalty,
                  "Subtracted per earlier occurrence in the generated tokens, in [-2, 2]");
  cmd->add_option("--no-repeat-ngram", o.no_repeat_ngram_size,
                  "No N-gram of the prompt and output occurs twice (0 = off)");
  cmd->add_option("--min-new-tokens", o.min_new_tokens, "No EOS before this many new tokens");
  // One value per flag, so that `--bad-words 5 MODEL` leaves MODEL to the positional argument.
  cmd->add_option("--bad-words", flags.bad_words,
                  "Ids (comma-separated) never generated in this sequence (repeatable: one sequence each)")
      ->allow_extra_args(false);
  cmd->add_option("--logit-bias", flags.logit_bias,
                  "ID=BIAS: add BIAS, in [-100, 100], to the logit of token ID (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--stop", o.stop_strings, "Stop when the text contains this string (repeatable)");
  cmd->add_option("--stop-id", o.stop_token_ids, "Stop at this token id (repeatable)");
  cmd->add_option("--logprobs", o.logprobs,
                  "With --json: each new token's log-probability and the N most likely, N in [0, 20]");
  cmd->add_flag("--ignore-eos", flags.ignore_eos, "Do not stop at the model's EOS tokens");
  cmd->add_option("--num-beams", o.num_beams,
                  "Beam search with N beams, 1-32 (1 = off); it does not sample, and prints once done");
  cmd->add_option("--num-return-sequences", o.num_return_sequences,
                  "Beam search: return the N best sequences, 1 to --num-beams");
  cmd->add_option("--length-penalty", o.length_penalty,
                  "Beam search: scores are log-prob sums / length^P (> 0 favours longer sequences)")
      ->capture_default_str();
  cmd->add_option_function<std::string>(
         "--early-stopping",
         [&o](const std::string& mode) {
           o.early_stopping = mode == "on"      ? EarlyStopping::on
                              : mode == "never" ? EarlyStopping::never
                                                : EarlyStopping::heuristic;
         },
         "Beam search stops: heuristic (when it cannot improve), on (num-beams finished), never")
      ->check(CLI::IsMember({"heuristic", "on", "never"}))
      ->default_str("heuristic");
}

GenerationOptions generation_options(const GenerationFlags& flags) {
  GenerationOptions options = flags.options;
  // Beam search does not sample: a command's sampling defaults give way to it, given flags do not.
  if (!flags.sampling_flag_given && (!flags.samples_by_default || is_beam_search(options)))
    options.greedy = true;
  options.stop_at_eos = !flags.ignore_eos;
  try {
    for (const auto& ids : flags.bad_words)
      options.bad_words_ids.push_back(parse_token_ids(ids, "--bad-words"));
    for (const auto& entry : flags.logit_bias) options.logit_bias.push_back(parse_logit_bias(entry));
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
  if (!result.logprobs.empty()) {
    auto& steps = json["logprobs"] = nlohmann::ordered_json::array();
    for (const auto& step : result.logprobs) {
      nlohmann::ordered_json top = nlohmann::ordered_json::array();
      for (const auto& t : step.top) top.push_back({{"id", t.id}, {"logprob", t.logprob}});
      steps.push_back({{"id", step.chosen.id}, {"logprob", step.chosen.logprob}, {"top", std::move(top)}});
    }
  }
  if (!result.error.empty()) json["error"] = result.error;
  return json;
}

std::vector<nlohmann::ordered_json> result_json_lines(const std::string& prompt,
                                                      const GenerationResult& result,
                                                      const GenerationOptions& options,
                                                      const ResultTimes& times) {
  nlohmann::ordered_json json = result_json(prompt, result, times);
  if (!is_beam_search(options)) return {json};
  // "score" right after "stop_reason": rebuilt in order, as ordered_json inserts at the end.
  const auto with_score = [&](const ReturnedSequence& sequence) {
    nlohmann::ordered_json out;
    for (const auto& [key, value] : json.items()) {
      if (key == "new_ids") {
        out[key] = sequence.new_ids;
      } else if (key == "text") {
        out[key] = sequence.text;
      } else if (key == "stop_reason") {
        out[key] = to_string(sequence.stop_reason);
        out["score"] = sequence.score;
      } else {
        out[key] = value;
      }
    }
    return out;
  };
  if (result.sequences.size() <= 1)
    return {result.sequences.empty() ? json : with_score(result.sequences.front())};
  std::vector<nlohmann::ordered_json> lines;
  for (size_t i = 0; i < result.sequences.size(); ++i) {
    nlohmann::ordered_json line{{"sequence_index", i}};
    line.update(with_score(result.sequences[i]));
    lines.push_back(std::move(line));
  }
  return lines;
}

void print_stats_line(const GenerationResult& result, const GenerationOptions& options,
                      const ResultTimes& times) {
  std::fprintf(stderr, "[%zu prompt + %zu new tokens, stop: %s, ", result.prompt_ids.size(),
               result.new_ids.size(), to_string(result.stop_reason));
  if (is_beam_search(options))
    std::fprintf(stderr, "%d beams, score %.4g | ", options.num_beams,
                 result.sequences.empty() ? 0.0 : static_cast<double>(result.sequences[0].score));
  else if (is_greedy(options))
    std::fprintf(stderr, "greedy | ");
  else
    std::fprintf(stderr, "seed %llu | ", static_cast<unsigned long long>(result.seed));
  if (times.load_seconds > 0) std::fprintf(stderr, "load %.0f ms | ", times.load_seconds * 1e3);
  std::fprintf(stderr, "prefill %.1f ms | decode %.1f tokens/s]\n", result.prefill_seconds * 1e3,
               result.decode_tokens_per_second());
}

}  // namespace ortlm::cli
