#pragma once
// The model's next-token distribution as integer frequencies for the range coder, computed the
// same way on every machine: ortlm's own scalar code in a fixed order (IEEE double arithmetic, no
// libm, no fused multiply-add, no vectorised reductions), every token at least 1, the total
// exactly 2^kTotalBits. The encoder and decoder call this on bit-identical logits and so get
// identical tables; the model's floats are the only thing that must match (see numerics.hpp).
#include <cstdint>
#include <span>
#include <vector>

namespace ortlm::zip {

// 2^30: with a 56-bit range coder renormalised at 2^48, range / total keeps >= 18 bits.
inline constexpr int kTotalBits = 30;
inline constexpr uint32_t kTotal = uint32_t{1} << kTotalBits;
// Every token takes at least 1 of the total; vocabularies beyond this would spend over 1/64 of the
// probability mass on that floor.
inline constexpr int32_t kMaxVocab = 1 << 24;

class FrequencyTable {
 public:
  // Builds the table from one row of logits (NaN counts as -inf; all -inf, or none usable, gives
  // the uniform distribution). No allocation once warm.
  void build(std::span<const float> logits);
  int32_t size() const { return static_cast<int32_t>(freq_.size()); }
  uint32_t freq(int32_t token) const { return freq_[static_cast<size_t>(token)]; }
  // The total of the frequencies of tokens below `token`.
  uint32_t cum(int32_t token) const { return cumulative_[static_cast<size_t>(token)]; }
  // The token whose share [cum, cum + freq) holds `slot` (slot < kTotal), and its cum.
  int32_t find(uint32_t slot, uint32_t& cum) const;
  // -log2 of the model's own probability of `token` (before quantization): the ideal code length.
  double ideal_bits(int32_t token) const;

 private:
  std::vector<uint32_t> freq_;
  std::vector<uint32_t> cumulative_;  // size() + 1 entries, from 0 to kTotal
  std::vector<double> scaled_;        // log2(e) x (logit - max), per token
  std::vector<double> weight_;        // 2^scaled_
  double log2_sum_ = 0;               // log2 of the sum of 2^scaled_
};

}  // namespace ortlm::zip
