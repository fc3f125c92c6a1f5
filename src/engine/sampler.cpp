#include "engine/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::engine {

namespace {

// The first id whose logit is NaN or +inf (either makes the softmax NaN), or -1.
int32_t first_non_finite(std::span<const float> logits) {
  bool bad = false;
  for (float v : logits) bad |= !(v < INFINITY);  // one vectorisable pass; false for NaN too
  if (!bad) return -1;
  for (size_t i = 0; i < logits.size(); ++i)
    if (!(logits[i] < INFINITY)) return static_cast<int32_t>(i);
  return -1;
}

// Validation first: the processors' scratch is sized from the options.
const GenerationOptions& validated(const GenerationOptions& options, int32_t vocab_size) {
  validate(options, vocab_size);
  return options;
}

[[noreturn]] void no_token_left() {
  throw Error(
      "no token is left to choose: every logit is -inf (barred by bad_words_ids, no_repeat_ngram_size "
      "or min_new_tokens, or by the model)");
}

}  // namespace

Sampler::Sampler(const GenerationOptions& options, int32_t vocab_size, uint64_t seed,
                 std::span<const int32_t> eos_ids)
    : options_(validated(options, vocab_size)),
      greedy_(is_greedy(options)),
      rng_(seed),
      processors_(options, vocab_size, eos_ids) {
  if (!greedy_) candidates_.reserve(static_cast<size_t>(std::max(vocab_size, 0)));
}

namespace {

[[noreturn]] void non_finite(std::span<const float> logits, int32_t bad, size_t history_size) {
  throw Error("the model produced a non-finite logit (" + std::to_string(logits[bad]) + " for token id " +
              std::to_string(bad) + " after " + std::to_string(history_size) +
              " tokens): its weights or its export are broken");
}

}  // namespace

int32_t Sampler::next_unmodified(std::span<const float> logits, size_t history_size) const {
  float best = -INFINITY;
  size_t at = 0;
  bool bad = false;
  for (size_t i = 0; i < logits.size(); ++i) {
    const float v = logits[i];
    bad |= !(v < INFINITY);  // NaN or +inf
    if (v > best) {          // the first of equal ones, as torch's argmax
      best = v;
      at = i;
    }
  }
  if (bad) non_finite(logits, first_non_finite(logits), history_size);
  if (best == -INFINITY) no_token_left();
  return static_cast<int32_t>(at);
}

int32_t Sampler::next(std::span<float> logits, std::span<const int32_t> history, size_t prompt_length) {
  if (const int32_t bad = first_non_finite(logits); bad >= 0) non_finite(logits, bad, history.size());
  processors_.apply(logits, history, prompt_length);
  if (greedy_) {
    const auto best = std::max_element(logits.begin(), logits.end());  // the first of equal ones, as torch
    if (best == logits.end() || *best == -INFINITY) no_token_left();
    return static_cast<int32_t>(best - logits.begin());
  }
  return sample(logits);
}

int32_t Sampler::sample(std::span<const float> logits) {
  // Barred tokens (-inf) have probability 0: they are left out of the candidates from the start.
  candidates_.clear();
  for (size_t i = 0; i < logits.size(); ++i) {
    const float logit = logits[i] / options_.temperature;  // TemperatureLogitsWarper
    if (logit > -INFINITY) candidates_.push_back({static_cast<int32_t>(i), logit, 0.0f});
  }
  if (candidates_.empty()) no_token_left();
  std::span<Candidate> kept(candidates_);
  kept = kept.first(keep_top_k(kept, options_.top_k));
  if (options_.top_p < 1.0f) kept = kept.first(keep_top_p(kept, options_.top_p));
  kept = kept.first(keep_min_p(kept, options_.min_p));
  kept = kept.first(keep_typical(kept, options_.typical_p));

  // The draw: weights exp(logit - max), a uniform point in their sum.
  float max = -INFINITY;
  for (const Candidate& c : kept) max = std::max(max, c.logit);
  double total = 0;
  for (Candidate& c : kept) {
    c.key = std::exp(c.logit - max);
    total += c.key;
  }
  if (!(total > 0 && total < INFINITY))  // a logit overflowed when divided by a small temperature
    throw Error("the logits divided by the temperature " + std::to_string(options_.temperature) +
                " are not finite: use a larger temperature");
  std::uniform_real_distribution<double> uniform(0.0, total);
  double r = uniform(rng_);
  for (const Candidate& c : kept) {
    r -= c.key;
    if (r <= 0) return c.id;
  }
  return kept.back().id;
}

}  // namespace ortlm::engine
