#pragma once
// Chooses the next token from logits: greedy, or sampling with repetition penalty, temperature,
// top-k, top-p and min-p (applied in that order, as Hugging Face transformers does), seeded.
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "ortlm/generator.hpp"

namespace ortlm::engine {

class Sampler {
 public:
  // `options` must have passed validate(); `seed` is the seed to use (GenerationOptions::seed or drawn).
  Sampler(const GenerationOptions& options, int32_t vocab_size, uint64_t seed);
  // `logits` is scratch space: it is modified. `history` are the ids seen so far (for penalties).
  // Throws ortlm::Error when the logits hold NaN or +inf (a broken model must not emit garbage).
  int32_t next(std::span<float> logits, std::span<const int32_t> history);

 private:
  void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history);
  int32_t sample(std::span<const float> logits);

  GenerationOptions options_;
  bool greedy_;
  std::mt19937_64 rng_;
  std::vector<int32_t> candidates_;  // reused every step: no per-token allocation
  std::vector<float> probs_;
  std::vector<uint8_t> seen_;
};

}  // namespace ortlm::engine
