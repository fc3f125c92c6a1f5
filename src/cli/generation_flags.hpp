#pragma once
// The generation flags `ortlm generate` and `ortlm chat` share (max tokens, sampling, stops), their
// checks, and the one JSON shape and stats line both print for a result.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "ortlm/generator.hpp"

namespace ortlm::cli {

struct GenerationFlags {
  GenerationOptions options;
  std::vector<std::string> bad_words;   // --bad-words values: "ID,ID,..." each
  std::vector<std::string> logit_bias;  // --logit-bias values: "ID=BIAS" each
  bool ignore_eos = false;
  bool sampling_flag_given = false;  // without one, generation is greedy...
  bool samples_by_default = false;   // ...unless this is set (chat), and no beam search asked for
};

// Adds -n, --max-length, --greedy, --temperature, --top-k, --top-p, --min-p, --typical-p, --seed,
// --repetition-penalty, --presence-penalty, --frequency-penalty, --no-repeat-ngram, --min-new-tokens,
// --bad-words, --logit-bias, --stop, --stop-id, --ignore-eos, --num-beams, --num-return-sequences,
// --length-penalty and --early-stopping to `cmd`.
void add_generation_flags(CLI::App* cmd, GenerationFlags& flags);

// The options the flags describe; a value out of range is a usage error (CLI::ValidationError, exit 2)
// that names the flag's range. Checks against the model's vocabulary come later, from the library.
GenerationOptions generation_options(const GenerationFlags& flags);

struct ResultTimes {
  double load_seconds = 0;  // loading the model (0 when it was loaded before, as in a chat)
};

// {"prompt", "prompt_ids", "new_ids", "text", "stop_reason", "seed", "load_ms", "prefill_ms",
//  "decode_ms", "tokens_per_second"} in that order, for every command that prints results as JSON.
nlohmann::ordered_json result_json(const std::string& prompt, const GenerationResult& result,
                                   const ResultTimes& times);

// The JSON lines of a result: result_json's one object, with "score" after "stop_reason" for beam
// search; or, when beam search returned several sequences, one object per sequence, best first,
// starting with "sequence_index" and holding that sequence's new_ids, text, stop_reason and score.
std::vector<nlohmann::ordered_json> result_json_lines(const std::string& prompt,
                                                      const GenerationResult& result,
                                                      const GenerationOptions& options,
                                                      const ResultTimes& times);

// "[3 prompt + 12 new tokens, stop: max_tokens, seed 42 | load 31 ms | prefill 0.4 ms | decode 4,000
// tokens/s]" on stderr ("greedy" instead of the seed when the options do not sample, "4 beams, score
// -0.53" for beam search).
void print_stats_line(const GenerationResult& result, const GenerationOptions& options,
                      const ResultTimes& times);

}  // namespace ortlm::cli
