#include "engine/logprobs.hpp"

#include <algorithm>
#include <cmath>

namespace ortlm::engine {

void step_logprobs(std::span<const float> raw_logits, int32_t chosen, int32_t top, StepLogprobs& out) {
  // log softmax(x)_i = x_i - (m + log sum_j exp(x_j - m)), summed in double for large vocabularies.
  const float m = *std::max_element(raw_logits.begin(), raw_logits.end());
  double sum = 0;
  for (float x : raw_logits) sum += std::exp(static_cast<double>(x) - m);
  const double log_z = m + std::log(sum);
  auto logprob = [&](size_t id) { return static_cast<float>(raw_logits[id] - log_z); };
  out.chosen = {chosen, logprob(static_cast<size_t>(chosen))};

  // The `top` largest logits, kept sorted in `out.top` (most likely first, lower id on ties).
  out.top.clear();
  const auto n = static_cast<size_t>(top);
  for (size_t id = 0; id < raw_logits.size() && n > 0; ++id) {
    const float x = raw_logits[id];
    if (out.top.size() == n && !(x > raw_logits[static_cast<size_t>(out.top.back().id)])) continue;
    auto at = std::find_if(out.top.begin(), out.top.end(),
                           [&](const TokenLogprob& t) { return x > raw_logits[static_cast<size_t>(t.id)]; });
    if (out.top.size() == n) out.top.pop_back();
    out.top.insert(at, {static_cast<int32_t>(id), 0.0f});
  }
  for (auto& t : out.top) t.logprob = logprob(static_cast<size_t>(t.id));
}

}  // namespace ortlm::engine
