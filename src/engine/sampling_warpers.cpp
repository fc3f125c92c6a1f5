#include "engine/sampling_warpers.hpp"

#include <algorithm>
#include <cmath>

namespace ortlm::engine {

namespace {

// Descending logit, ties by ascending id: a total order, so that results never depend on the sort.
bool by_logit(const Candidate& a, const Candidate& b) {
  return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

float max_logit(std::span<const Candidate> candidates) {
  float max = -INFINITY;
  for (const Candidate& c : candidates) max = std::max(max, c.logit);
  return max;
}

// The softmax's denominator, relative to exp(max).
double exp_sum(std::span<const Candidate> candidates, float max) {
  double total = 0;
  for (const Candidate& c : candidates) total += std::exp(static_cast<double>(c.logit - max));
  return total;
}

}  // namespace

size_t keep_top_k(std::span<Candidate> candidates, int32_t top_k) {
  if (top_k <= 0 || static_cast<size_t>(top_k) >= candidates.size()) return candidates.size();
  const auto kth = candidates.begin() + (top_k - 1);
  std::nth_element(candidates.begin(), kth, candidates.end(), by_logit);
  // transformers removes the logits below the k-th largest: those equal to it stay.
  const float smallest_kept = kth->logit;
  const auto end = std::partition(candidates.begin(), candidates.end(),
                                  [smallest_kept](const Candidate& c) { return c.logit >= smallest_kept; });
  return static_cast<size_t>(end - candidates.begin());
}

size_t keep_top_p(std::span<Candidate> candidates, float top_p) {
  std::sort(candidates.begin(), candidates.end(), by_logit);
  if (candidates.empty() || top_p >= 1.0f) return candidates.size();
  const float max = candidates[0].logit;
  const double total = exp_sum(candidates, max);
  // transformers drops a token when the tokens more likely than it already reach top_p.
  double more_likely = 0;
  size_t keep = 0;
  while (keep < candidates.size() && more_likely < top_p)
    more_likely += std::exp(static_cast<double>(candidates[keep++].logit - max)) / total;
  return std::max<size_t>(keep, 1);
}

size_t keep_min_p(std::span<Candidate> candidates, float min_p) {
  if (min_p <= 0.0f) return candidates.size();
  // p / p_max = exp(logit - max): no normalisation needed.
  const float max = max_logit(candidates);
  size_t keep = 0;
  for (const Candidate& c : candidates)
    if (std::exp(static_cast<double>(c.logit - max)) >= min_p) candidates[keep++] = c;
  return std::max<size_t>(keep, 1);  // the most likely token always passes; this guards rounding
}

size_t keep_typical(std::span<Candidate> candidates, float mass) {
  if (candidates.size() <= 1 || mass >= 1.0f) return candidates.size();
  const float max = max_logit(candidates);
  const double total = exp_sum(candidates, max);
  const double log_total = std::log(total);
  double entropy = 0;
  for (const Candidate& c : candidates) {
    const double log_p = static_cast<double>(c.logit - max) - log_total;
    entropy -= std::exp(log_p) * log_p;
  }
  for (Candidate& c : candidates) {
    const double log_p = static_cast<double>(c.logit - max) - log_total;
    c.key = static_cast<float>(std::fabs(-log_p - entropy));
  }
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    return a.key < b.key || (a.key == b.key && by_logit(a, b));
  });
  // transformers: last = how many prefixes stay below `mass` (at most the last index); every token no
  // farther from the entropy than candidates[last] is kept.
  double cumulative = 0;
  size_t last = 0;
  for (const Candidate& c : candidates) {
    cumulative += std::exp(static_cast<double>(c.logit - max)) / total;
    if (!(cumulative < mass)) break;
    ++last;
  }
  last = std::min(last, candidates.size() - 1);
  const float farthest_kept = candidates[last].key;
  size_t keep = last + 1;
  while (keep < candidates.size() && candidates[keep].key <= farthest_kept) ++keep;
  return keep;
}

}  // namespace ortlm::engine
