#pragma once
// Chooses the next token from logits: the logits processors (logits_processors.hpp), then greedy
// (argmax) or, when sampling, the warpers (sampling_warpers.hpp) and a seeded draw. The order of both
// is Hugging Face transformers' (logits_processors.hpp says where it comes from).
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "engine/logits_processors.hpp"
#include "engine/sampling_warpers.hpp"
#include "ortlm/generator.hpp"

namespace ortlm::engine {

class Sampler {
 public:
  // `options` are validated here (throws ortlm::Error); `seed` is the seed to use (GenerationOptions::seed
  // or drawn); `eos_ids` are the model's (for min_new_tokens and bad_words_ids).
  Sampler(const GenerationOptions& options, int32_t vocab_size, uint64_t seed,
          std::span<const int32_t> eos_ids);

  // `logits` is scratch space: it is modified. `history` is the prompt followed by the ids generated so
  // far; its first `prompt_length` ids are the prompt. Throws ortlm::Error when the logits hold NaN or
  // +inf (a broken model must not emit garbage) or when the processors left no token to choose.
  int32_t next(std::span<float> logits, std::span<const int32_t> history, size_t prompt_length);

  // Plain greedy (no processor changes a logit): the argmax can be read from the model's logits as
  // they are, without a scratch copy (next_unmodified).
  bool reads_only() const { return greedy_ && !processors_.active(); }
  // next() for reads_only() samplers: one pass over the logits, the same checks and errors.
  int32_t next_unmodified(std::span<const float> logits, size_t history_size) const;

 private:
  int32_t sample(std::span<const float> logits);

  GenerationOptions options_;
  bool greedy_;
  std::mt19937_64 rng_;
  LogitsProcessors processors_;
  std::vector<Candidate> candidates_;  // reused every step: no per-token allocation
};

}  // namespace ortlm::engine
