#include "quant/block_quant.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace ortlm::quant {
namespace {

// Relative scales the search tries around RTN's (narrower scales clip the extremes of a block to
// represent its bulk more finely; slightly wider ones can round the extremes better).
constexpr float kSearchFrom = 0.70f, kSearchTo = 1.10f, kSearchStep = 0.02f;

void round_levels(std::span<const float> x, BlockParams p, int max_level, uint8_t* levels) {
  const float inverse = p.scale != 0 ? 1.0f / p.scale : 0.0f;
  for (size_t i = 0; i < x.size(); ++i) {
    const float q = std::nearbyint(x[i] * inverse) + static_cast<float>(p.zero_point);
    levels[i] = static_cast<uint8_t>(std::clamp(q, 0.0f, static_cast<float>(max_level)));
  }
}

// Asymmetric RTN: the range is widened to include 0 so that the zero point is an exact level
// (padding and zero weights stay exactly 0).
BlockParams rtn_asymmetric(std::span<const float> x, int max_level) {
  float lo = 0, hi = 0;
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  BlockParams p;
  p.scale = (hi - lo) / static_cast<float>(max_level);
  if (p.scale == 0) return p;
  p.zero_point = static_cast<uint8_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.0f, float(max_level)));
  return p;
}

// Symmetric RTN (llama.cpp's Q4_0 rule): the value of largest magnitude maps to the extreme
// negative level -2^(bits-1), whose sign the scale carries.
BlockParams rtn_symmetric(std::span<const float> x, const BlockFormat& format) {
  float extreme = 0;
  for (float v : x)
    if (std::fabs(v) > std::fabs(extreme)) extreme = v;
  BlockParams p;
  p.zero_point = format.symmetric_zero_point();
  p.scale = extreme / -static_cast<float>(format.symmetric_zero_point());
  return p;
}

// The least-squares scale for fixed levels: argmin_s sum (x - (q - z) s)^2.
float refit_scale(std::span<const float> x, const uint8_t* levels, uint8_t zero_point, float fallback) {
  double xq = 0, qq = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double q = static_cast<double>(levels[i]) - zero_point;
    xq += x[i] * q;
    qq += q * q;
  }
  return qq > 0 ? static_cast<float>(xq / qq) : fallback;
}

}  // namespace

double squared_error(std::span<const float> values, const uint8_t* levels, BlockParams p) {
  double sum = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double d = static_cast<double>(values[i]) - dequantize(levels[i], p);
    sum += d * d;
  }
  return sum;
}

BlockParams quantize_block(std::span<const float> x, const BlockFormat& format, Method method,
                           uint8_t* levels) {
  const int max_level = format.max_level();
  const BlockParams rtn = format.symmetric ? rtn_symmetric(x, format) : rtn_asymmetric(x, max_level);
  round_levels(x, rtn, max_level, levels);
  if (method == Method::rtn || rtn.scale == 0) return rtn;

  BlockParams best = rtn;
  double best_error = squared_error(x, levels, rtn);
  uint8_t trial[256];  // block_size is at most 128
  auto consider = [&](BlockParams p) {
    if (!std::isfinite(p.scale) || p.scale == 0) return;
    round_levels(x, p, max_level, trial);
    p.scale = refit_scale(x, trial, p.zero_point, p.scale);  // the best scale for these levels
    round_levels(x, p, max_level, trial);
    const double error = squared_error(x, trial, p);
    if (error < best_error) {
      best_error = error;
      best = p;
    }
  };
  float lo = std::numeric_limits<float>::max(), hi = std::numeric_limits<float>::lowest();
  for (float v : x) {
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  for (float f = kSearchFrom; f <= kSearchTo + 1e-6f; f += kSearchStep) {
    BlockParams p;
    if (format.symmetric) {
      p.zero_point = rtn.zero_point;
      p.scale = rtn.scale * f;
    } else {
      // The block's own range (not widened to 0), scaled; the zero point places its minimum.
      p.scale = (hi - lo) / static_cast<float>(max_level) * f;
      if (p.scale <= 0) continue;
      p.zero_point = static_cast<uint8_t>(std::clamp(std::nearbyint(-lo / p.scale), 0.0f, float(max_level)));
    }
    consider(p);
  }
  round_levels(x, best, max_level, levels);
  return best;
}

}  // namespace ortlm::quant
