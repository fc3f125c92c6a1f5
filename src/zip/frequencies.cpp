#include "zip/frequencies.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "ortlm/error.hpp"

namespace ortlm::zip {

namespace {

constexpr double kLog2E = 1.4426950408889634074;
constexpr double kLn2 = 0.6931471805599453094;
// Tokens more than 2^64 times less likely than the best get the floor frequency anyway.
constexpr double kLowestExponent = -64;

// 2^x for x in [kLowestExponent, 0], from basic IEEE operations only (libm's exp differs between
// versions and CPU-specific variants; this does not): a degree-13 Taylor polynomial of e^(f ln 2)
// for the fraction f in [0, 1), by Horner's rule, scaled by 2^floor(x) (exact: the result is normal).
double exp2_fixed(double x) {
  if (!(x >= kLowestExponent)) return 0;
  const double whole = std::floor(x);   // exact
  const double t = (x - whole) * kLn2;  // x - whole is exact
  double p = 1.0;
  for (int i = 13; i >= 1; --i) p = 1.0 + p * t / i;
  return std::ldexp(p, static_cast<int>(whole));
}

}  // namespace

void FrequencyTable::build(std::span<const float> logits) {
  const size_t n = logits.size();
  if (n == 0 || n > static_cast<size_t>(kMaxVocab))
    throw Error("the model's vocabulary (" + std::to_string(n) + " logits) must have 1 to " +
                std::to_string(kMaxVocab) + " entries for LLMzip");
  freq_.resize(n);
  scaled_.resize(n);
  weight_.resize(n);
  cumulative_.resize(n + 1);
  float best = -std::numeric_limits<float>::infinity();
  for (float v : logits)
    if (v > best) best = v;  // NaN never compares greater
  const bool uniform = best == -std::numeric_limits<float>::infinity();
  const bool infinite = best == std::numeric_limits<float>::infinity();
  double sum = 0;
  size_t top = 0;
  bool top_found = false;
  for (size_t i = 0; i < n; ++i) {
    const float v = logits[i];
    double x;
    if (uniform)
      x = 0;
    else if (infinite)
      x = v == best ? 0 : -std::numeric_limits<double>::infinity();
    else
      x = v == v ? (static_cast<double>(v) - static_cast<double>(best)) * kLog2E
                 : -std::numeric_limits<double>::infinity();
    scaled_[i] = x;
    if (x == 0 && !top_found) {
      top = i;
      top_found = true;
    }
    weight_[i] = exp2_fixed(x);
    sum += weight_[i];
  }
  // Every token gets 1, the rest of the total is shared in proportion; what rounding leaves over
  // (or takes too much) goes to the most likely token (the first of the best).
  const double spare = static_cast<double>(kTotal - static_cast<uint32_t>(n));
  const double scale = spare / sum;  // sum >= 1: the best token contributes 2^0
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const double share = std::floor(weight_[i] * scale);
    const auto f = 1 + static_cast<uint32_t>(std::min(share, spare));
    freq_[i] = f;
    total += f;
  }
  if (total > kTotal)
    freq_[top] -= static_cast<uint32_t>(total - kTotal);
  else
    freq_[top] += static_cast<uint32_t>(kTotal - total);
  uint32_t c = 0;
  for (size_t i = 0; i < n; ++i) {
    cumulative_[i] = c;
    c += freq_[i];
  }
  cumulative_[n] = c;
  log2_sum_ = std::log2(sum);
}

int32_t FrequencyTable::find(uint32_t slot, uint32_t& cum) const {
  // The last entry whose cum <= slot (cumulative[0] = 0 <= slot; every freq >= 1).
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end() - 1, slot) - 1;
  cum = *it;
  return static_cast<int32_t>(it - cumulative_.begin());
}

double FrequencyTable::ideal_bits(int32_t token) const {
  const double x = scaled_[static_cast<size_t>(token)];
  return x == -std::numeric_limits<double>::infinity() ? std::numeric_limits<double>::infinity()
                                                       : log2_sum_ - x;
}

}  // namespace ortlm::zip
