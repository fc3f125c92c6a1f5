#pragma once
// The logits processors that apply to every decoding strategy (greedy, sampling and, later, beam search),
// with the semantics of Hugging Face transformers' classes of the same role.
//
// The order is Hugging Face's: GenerationMixin._get_logits_processor in
// transformers/src/transformers/generation/utils.py (read at commit 000034a44ef8) appends
//   SequenceBiasLogitsProcessor, RepetitionPenaltyLogitsProcessor, NoRepeatNGramLogitsProcessor,
//   NoBadWordsLogitsProcessor, MinNewTokensLengthLogitsProcessor
// and then, only when sampling (do_sample), the warpers
//   TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper, MinPLogitsWarper, TypicalLogitsWarper.
// Here that is:
//   1. logit_bias            (OpenAI's per-id bias is a one-id SequenceBiasLogitsProcessor entry)
//   2. repetition_penalty
//   3. presence_penalty, frequency_penalty: not in transformers; placed right after the repetition
//      penalty, as vLLM's apply_penalties applies them (repetition, then frequency and presence)
//   4. no_repeat_ngram_size
//   5. bad_words_ids
//   6. min_new_tokens
// (LogitsProcessors below), then, when sampling, temperature -> top_k -> top_p -> min_p -> typical_p
// (sampling_warpers.hpp, applied by the Sampler). Greedy decoding takes the argmax after step 6, as
// transformers does.
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "ortlm/generator.hpp"

namespace ortlm::engine {

// Each function edits `logits` in place; ids outside `logits` are ignored. `history` is the prompt
// followed by the ids generated so far.

// logits[id] += bias for each (id, bias).
void add_logit_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias);

// RepetitionPenaltyLogitsProcessor: each id in `history` (once however often it occurs) has its logit
// divided by `penalty` when positive and multiplied by it otherwise. `seen` has one zero per logit and
// is left so.
void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history, float penalty,
                              std::span<uint8_t> seen);

// OpenAI's presence and frequency penalties as vLLM applies them, over the generated ids only:
// logit -= frequency * count + presence * (count > 0). `counts` has one zero per logit and is left so.
void apply_presence_frequency_penalties(std::span<float> logits, std::span<const int32_t> generated,
                                        float presence, float frequency, std::span<int32_t> counts);

// NoRepeatNGramLogitsProcessor: -inf for every id that would complete an n-gram (n = ngram_size)
// already present in `history` (prompt included, as transformers does for decoder-only models).
void ban_repeated_ngrams(std::span<float> logits, std::span<const int32_t> history, int32_t ngram_size);

// NoBadWordsLogitsProcessor: -inf for a one-id word always, and for the last id of a longer word when
// `history` ends with the rest of it. As in transformers (SequenceBiasLogitsProcessor), a word longer
// than `history` is skipped.
void ban_bad_words(std::span<float> logits, std::span<const int32_t> history,
                   std::span<const std::vector<int32_t>> bad_words);

// MinNewTokensLengthLogitsProcessor: -inf for every eos id while fewer than `min_new_tokens` ids were
// generated.
void ban_eos_before_min_new_tokens(std::span<float> logits, size_t generated_count, int32_t min_new_tokens,
                                   std::span<const int32_t> eos_ids);

// The processors the options switch on, applied in the order above with scratch space allocated once.
class LogitsProcessors {
 public:
  // `options` must have passed validate(); `eos_ids` are the model's.
  LogitsProcessors(const GenerationOptions& options, int32_t vocab_size, std::span<const int32_t> eos_ids);

  // `logits` holds vocab_size values; `history` is prompt + generated, whose first `prompt_length`
  // ids are the prompt (throws ortlm::Error when prompt_length is past its end).
  void apply(std::span<float> logits, std::span<const int32_t> history, size_t prompt_length);
  // Whether apply() may change any logit (some processor is on).
  bool active() const {
    return !logit_bias_.empty() || repetition_penalty_ != 1.0f || presence_penalty_ != 0.0f ||
           frequency_penalty_ != 0.0f || no_repeat_ngram_size_ > 0 || !bad_words_.empty() ||
           (min_new_tokens_ > 0 && !eos_ids_.empty());
  }

 private:
  std::vector<std::pair<int32_t, float>> logit_bias_;
  float repetition_penalty_;
  float presence_penalty_;
  float frequency_penalty_;
  int32_t no_repeat_ngram_size_;
  int32_t min_new_tokens_;
  std::vector<std::vector<int32_t>> bad_words_;  // without one-id words that are an eos id (transformers)
  std::vector<int32_t> eos_ids_;
  std::vector<uint8_t> seen_;    // apply_repetition_penalty's scratch
  std::vector<int32_t> counts_;  // apply_presence_frequency_penalties' scratch
};

}  // namespace ortlm::engine
