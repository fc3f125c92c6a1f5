#include "engine/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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

}  // namespace

Sampler::Sampler(const GenerationOptions& options, int32_t vocab_size, uint64_t seed)
    : options_(options), greedy_(is_greedy(options)), rng_(seed) {
  validate(options, vocab_size);
  candidates_.reserve(static_cast<size_t>(vocab_size));
  probs_.reserve(static_cast<size_t>(vocab_size));
  seen_.assign(static_cast<size_t>(vocab_size), 0);
}

void Sampler::apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history) {
  const float penalty = options_.repetition_penalty;
  for (int32_t id : history) {
    if (id < 0 || static_cast<size_t>(id) >= logits.size() || seen_[id]) continue;
    seen_[id] = 1;
    logits[id] = logits[id] > 0 ? logits[id] / penalty : logits[id] * penalty;
  }
  for (int32_t id : history)
    if (id >= 0 && static_cast<size_t>(id) < seen_.size()) seen_[id] = 0;
}

int32_t Sampler::next(std::span<float> logits, std::span<const int32_t> history) {
  if (const int32_t bad = first_non_finite(logits); bad >= 0)
    throw Error("the model produced a non-finite logit (" + std::to_string(logits[bad]) + " for token id " +
                std::to_string(bad) + " after " + std::to_string(history.size()) +
                " tokens): its weights or its export are broken");
  if (options_.repetition_penalty != 1.0f) apply_repetition_penalty(logits, history);
  if (greedy_) return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  return sample(logits);
}

int32_t Sampler::sample(std::span<const float> logits) {
  const size_t vocab = logits.size();
  candidates_.resize(vocab);
  std::iota(candidates_.begin(), candidates_.end(), 0);
  auto by_logit = [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  size_t count = vocab;
  if (options_.top_k > 0 && static_cast<size_t>(options_.top_k) < vocab) {
    count = static_cast<size_t>(options_.top_k);
    std::nth_element(candidates_.begin(), candidates_.begin() + static_cast<long>(count), candidates_.end(),
                     by_logit);
  }
  // Sorted candidates make top-p a prefix; a full sort is only needed when top-p is on.
  if (options_.top_p < 1.0f || options_.top_k > 0)
    std::sort(candidates_.begin(), candidates_.begin() + static_cast<long>(count), by_logit);

  // Softmax with temperature over the candidates.
  const float inv_t = 1.0f / options_.temperature;
  float max_logit = -INFINITY;
  for (size_t i = 0; i < count; ++i) max_logit = std::max(max_logit, logits[candidates_[i]]);
  probs_.resize(count);
  double total = 0;
  for (size_t i = 0; i < count; ++i) {
    probs_[i] = std::exp((logits[candidates_[i]] - max_logit) * inv_t);
    total += probs_[i];
  }
  if (options_.top_p < 1.0f) {
    double cumulative = 0;
    size_t keep = 0;
    while (keep < count) {
      cumulative += probs_[keep++] / total;
      if (cumulative >= options_.top_p) break;
    }
    count = keep;
  }
  if (options_.min_p > 0.0f) {
    // The largest probability is exp(0) = 1 before normalisation.
    const float floor = options_.min_p;
    size_t keep = 0;
    for (size_t i = 0; i < count; ++i)
      if (probs_[i] >= floor) {
        probs_[keep] = probs_[i];
        candidates_[keep++] = candidates_[i];
      }
    count = std::max<size_t>(keep, 1);
  }
  total = 0;
  for (size_t i = 0; i < count; ++i) total += probs_[i];
  std::uniform_real_distribution<double> uniform(0.0, total);
  double r = uniform(rng_);
  for (size_t i = 0; i < count; ++i) {
    r -= probs_[i];
    if (r <= 0) return candidates_[i];
  }
  return candidates_[count - 1];
}

}  // namespace ortlm::engine
