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

#include "ortlm/engine_options.hpp"
#include "ortlm/model.hpp"

namespace ortlm {

// When beam search stops (Hugging Face's GenerationConfig.early_stopping).
enum class EarlyStopping {
  heuristic,  // HF False: stop once the best running beam, at its current length, cannot beat the
              // worst of num_beams finished hypotheses
  on,         // HF True: stop as soon as num_beams hypotheses are finished
  never,      // HF "never": as heuristic, but with a positive length_penalty the best running beam is
              // judged at the longest length it may reach (the canonical, slower, beam search)
};
const char* to_string(EarlyStopping mode);

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

  // Total length, prompt included (Hugging Face max_length); 0 = unset. Every decoding mode stops at
  // the tighter of it and max_new_tokens (StopReason::max_tokens). Not above the prompt's length, it
  // is an error of that request (Engine::add_request).
  int32_t max_length = 0;

  // Beam search, as Hugging Face transformers' (generation/utils.py _beam_search): num_beams > 1
  // keeps that many hypotheses, scored by the sum of their tokens' log-probabilities (after the
  // logits processors), and returns the best num_return_sequences (GenerationResult::sequences).
  // Beam search never samples: greedy and seed are then ignored, and a sampling warper (temperature
  // other than 0 or 1, top_k, top_p, min_p, typical_p) is an error, as are stop_strings.
  int32_t num_beams = 1;             // [1, kMaxBeams]; 1 = off
  int32_t num_return_sequences = 1;  // [1, num_beams]
  // A finished hypothesis scores sum_logprobs / generated_length^length_penalty, generated_length
  // counting its new ids, the final eos included (finite; > 0 favours longer sequences, < 0 shorter).
  float length_penalty = 1.0f;
  EarlyStopping early_stopping = EarlyStopping::heuristic;
};

// Beams per request at most: each beam is one KV row (one sequence's KV memory).
inline constexpr int32_t kMaxBeams = 32;

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

inline bool is_beam_search(const GenerationOptions& options) { return options.num_beams > 1; }

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

// One generated sequence of a request.
struct ReturnedSequence {
  std::vector<int32_t> new_ids;
  std::string text;  // decoded text of new_ids (empty when the model has no tokenizer)
  // Beam search: the hypothesis' score as Hugging Face reports it (sequences_scores: sum of log-probs
  // / generated length^length_penalty). Other decoding: 0.
  float score = 0;
  StopReason stop_reason = StopReason::max_tokens;
};

struct GenerationResult {
  std::vector<int32_t> prompt_ids;
  // Prompt tokens whose KV came from the prefix cache (EngineOptions::prefix_cache_mib), not computed.
  size_t cached_prompt_tokens = 0;
  // The best sequence (the only one unless beam search returns several).
  std::vector<int32_t> new_ids;
  std::string text;  // decoded text of new_ids (empty when the model has no tokenizer)
  StopReason stop_reason = StopReason::max_tokens;
  // Every returned sequence, best first; sequences[0] is new_ids, text and stop_reason again. Beam
  // search returns num_return_sequences of them (fewer only if the logits processors left fewer
  // finite continuations, or none but that one when it was cancelled or failed); other decoding one.
  std::vector<ReturnedSequence> sequences;
  uint64_t seed = 0;                   // the sampling seed used (given, or drawn at random)
  std::string error;                   // why the request failed (stop_reason error), else empty
  std::vector<StepLogprobs> logprobs;  // one per new token when GenerationOptions::logprobs > 0
  double prefill_seconds = 0;
  double decode_seconds = 0;
  double decode_tokens_per_second() const;
};

// Called with each new id and the complete UTF-8 text it completed (possibly empty); return false to
// stop. Text held back at the end (an unfinished stop-string prefix, trailing bytes) comes last with id -1.
// Beam search streams nothing while it searches: once it is done, the best sequence's ids come in one
// go (returning false then only ends the calls).
using TokenCallback = std::function<bool(int32_t id, std::string_view text)>;

class Generator {
 public:
  explicit Generator(std::shared_ptr<Model> model);
  // With `options.prefix_cache_mib` > 0 the KV of earlier calls is reused where a prompt starts with
  // the tokens of an earlier one (a chat's conversation so far). Throws ortlm::Error for options
  // out of range.
  Generator(std::shared_ptr<Model> model, const EngineOptions& options);
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
