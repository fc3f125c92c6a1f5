#pragma once
// Text generation with a KV cache: prefill once, then one token per step.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ortlm/model.hpp"

namespace ortlm {

// Ranges are checked by validate() (and by every generate call): a value outside them is an error
// naming the field and its range, never silently changed.
struct GenerationOptions {
  int32_t max_new_tokens = 256;           // >= 0
  bool greedy = false;                    // argmax; ignores temperature, top_k, top_p, min_p, typical_p
  float temperature = 1.0f;               // 0 = greedy, else in [kMinTemperature, kMaxTemperature]
  int32_t top_k = 0;                      // >= 0; 0 = off
  float top_p = 1.0f;                     // (0, 1]; 1 = off
  float min_p = 0.0f;                     // [0, 1]; 0 = off
  float typical_p = 1.0f;                 // (0, 1]; 1 = off (Hugging Face's typical decoding)
  float repetition_penalty = 1.0f;        // [kMinRepetitionPenalty, kMaxRepetitionPenalty]; 1 = off
  float presence_penalty = 0.0f;          // [-2, 2]; subtracted once from each id generated so far
  float frequency_penalty = 0.0f;         // [-2, 2]; subtracted per occurrence in the generated ids
  int32_t no_repeat_ngram_size = 0;       // >= 0; 0 = off; no n-gram of prompt + output occurs twice
  int32_t min_new_tokens = 0;             // >= 0; the model's eos ids are barred before this many
  std::optional<uint64_t> seed;           // unset: a fresh random seed, reported in GenerationResult::seed
  bool stop_at_eos = true;                // the model's eos ids end generation
  std::vector<int32_t> stop_token_ids;    // extra ids that end generation (in the model's vocabulary)
  std::vector<std::string> stop_strings;  // generation ends once the text contains one (it is cut off)
  // Id sequences never generated (Hugging Face bad_words_ids): a one-id entry is always barred, a longer
  // one when the ids so far end with all but its last id. Entries that are one eos id are ignored.
  std::vector<std::vector<int32_t>> bad_words_ids;
  // Added to the raw logit of an id (OpenAI logit_bias), each bias in [-100, 100], each id once.
  std::vector<std::pair<int32_t, float>> logit_bias;
  // Report the log-probability of each new token and of the `logprobs` most likely ones, in
  // [0, kMaxLogprobs]; 0 = off. From the model's raw logits, before any processor (as OpenAI reports).
  int32_t logprobs = 0;
};

// Below this a temperature divides logits into infinities; above it sampling is uniform anyway.
inline constexpr float kMinTemperature = 1e-3f, kMaxTemperature = 1e3f;
inline constexpr float kMinRepetitionPenalty = 1e-2f, kMaxRepetitionPenalty = 1e2f;
// OpenAI's ranges for presence_penalty, frequency_penalty and logit_bias.
inline constexpr float kMaxPresencePenalty = 2.0f, kMaxFrequencyPenalty = 2.0f, kMaxLogitBias = 100.0f;
inline constexpr int32_t kMaxLogprobs = 20;  // OpenAI's top_logprobs limit

// Throws ortlm::Error naming the first field out of range and the range allowed. `vocab_size` > 0
// also checks the ids of stop_token_ids, bad_words_ids and logit_bias against the model's vocabulary.
void validate(const GenerationOptions& options, int32_t vocab_size = 0);

// Whether the options pick the most likely token (greedy, or temperature 0): the seed is then unused.
inline bool is_greedy(const GenerationOptions& options) {
  return options.greedy || options.temperature == 0.0f;
}

// `error`: this request failed (GenerationResult::error says why); other requests go on.
enum class StopReason { eos, stop_token, stop_string, max_tokens, context_full, cancelled, error };
const char* to_string(StopReason reason);

struct TokenLogprob {
  int32_t id = 0;
  float logprob = 0;  // natural log of the softmax of the raw logits
};

// One new token's log-probability and the most likely alternatives at that step (most likely first).
struct StepLogprobs {
  TokenLogprob chosen;
  std::vector<TokenLogprob> top;
};

struct GenerationResult {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> new_ids;
  std::string text;  // decoded text of new_ids (empty when the model has no tokenizer)
  StopReason stop_reason = StopReason::max_tokens;
  uint64_t seed = 0;                   // the sampling seed used (given, or drawn at random)
  std::string error;                   // why the request failed (stop_reason error), else empty
  std::vector<StepLogprobs> logprobs;  // one per new token when GenerationOptions::logprobs > 0
  double prefill_seconds = 0;
  double decode_seconds = 0;
  double decode_tokens_per_second() const;
};

// Called with each new id and the complete UTF-8 text it completed (possibly empty); return false to
// stop. Text held back at the end (an unfinished stop-string prefix, trailing bytes) comes last with id -1.
using TokenCallback = std::function<bool(int32_t id, std::string_view text)>;

class Generator {
 public:
  explicit Generator(std::shared_ptr<Model> model);
  ~Generator();
  // Encodes `prompt` with the model's tokenizer (adding BOS as the model is configured) and generates.
  GenerationResult generate(std::string_view prompt, const GenerationOptions& options,
                            const TokenCallback& on_token = {});
  GenerationResult generate(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                            const TokenCallback& on_token = {});

 private:
  struct State;
  std::shared_ptr<Model> model_;
  std::unique_ptr<State> state_;
};

}  // namespace ortlm
