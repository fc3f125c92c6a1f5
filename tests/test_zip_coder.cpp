// The range coder and the frequency quantization, against the mathematics they implement: symbols
// come back as coded, the code length stays within a hair of the entropy sum, frequencies follow
// a softmax computed independently with libm, sum to the fixed total and never drop below 1.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include "zip/frequencies.hpp"
#include "zip/range_coder.hpp"

namespace ortlm::zip {
namespace {

struct Coded {
  std::vector<uint32_t> freq;  // one distribution per symbol position
  std::vector<uint32_t> cum;
  std::vector<uint32_t> symbols;
};

TEST(ZipRangeCoder, RoundTripsAndCostsTheEntropy) {
  std::mt19937_64 rng(7);
  for (int bits : {12, 20, kTotalBits}) {
    const uint32_t total = uint32_t{1} << bits;
    RangeEncoder encoder(bits);
    std::vector<std::pair<uint32_t, uint32_t>> coded;  // (cum, freq) per symbol
    double entropy_bits = 0;
    for (int i = 0; i < 20000; ++i) {
      // Skewed shares, including the extremes: freq 1 and freq total - 1.
      const int kind = static_cast<int>(rng() % 4);
      uint32_t freq = kind == 0 ? 1 : kind == 1 ? total - 1 : 1 + static_cast<uint32_t>(rng() % (total - 1));
      const uint32_t cum = static_cast<uint32_t>(rng() % (total - freq + 1));
      coded.emplace_back(cum, freq);
      encoder.encode(cum, freq);
      entropy_bits += -std::log2(static_cast<double>(freq) / total);
    }
    const std::string bytes = encoder.finish();
    // Truncation of range / total loses < 2^-16 per symbol; the end costs a few bytes.
    EXPECT_LE(8.0 * bytes.size(), entropy_bits * 1.001 + 64) << bits;
    EXPECT_GE(8.0 * bytes.size(), entropy_bits - 8) << bits;
    RangeDecoder decoder({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, bits);
    for (const auto& [cum, freq] : coded) {
      uint32_t slot = 0;
      ASSERT_TRUE(decoder.peek(slot));
      ASSERT_GE(slot, cum);
      ASSERT_LT(slot, cum + freq);
      decoder.consume(cum, freq);
    }
    EXPECT_GE(decoder.bytes_read(), bytes.size());
  }
}

TEST(ZipRangeCoder, EmptyAndCertainStreams) {
  RangeEncoder none(kTotalBits);
  EXPECT_EQ(none.finish(), "");
  // A certain symbol (all of the total) costs nothing at all.
  RangeEncoder certain(kTotalBits);
  for (int i = 0; i < 1000; ++i) certain.encode(0, kTotal);
  EXPECT_EQ(certain.finish(), "");
}

TEST(ZipFrequencies, FollowTheSoftmaxWithAFloorAndAFixedTotal) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0, 4);
  FrequencyTable table;
  for (int vocab : {2, 512, 50257}) {
    std::vector<float> logits(static_cast<size_t>(vocab));
    for (auto& v : logits) v = normal(rng);
    logits[0] = -1e30f;  // far below the rest: the floor
    table.build(logits);
    ASSERT_EQ(table.size(), vocab);
    uint64_t sum = 0;
    double best = -1e300, sum_exp = 0;
    for (float v : logits) best = std::max(best, static_cast<double>(v));
    for (float v : logits) sum_exp += std::exp(static_cast<double>(v) - best);
    const auto top = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
    for (int32_t t = 0; t < vocab; ++t) {
      ASSERT_GE(table.freq(t), 1u);
      ASSERT_EQ(table.cum(t), sum);
      sum += table.freq(t);
      const double p = std::exp(static_cast<double>(logits[static_cast<size_t>(t)]) - best) / sum_exp;
      // Shares of (total - vocab) plus the floor, off by a rounding unit; the most likely token
      // also takes what the others' rounding left (less than one per token).
      const double slack = (t == top ? vocab : 2.0) + 1e-6 * p * kTotal;
      EXPECT_NEAR(static_cast<double>(table.freq(t)), p * (kTotal - vocab) + 1, slack) << t;
      EXPECT_NEAR(table.ideal_bits(t), -std::log2(p), 1e-9 + 1e-9 * -std::log2(p)) << t;
    }
    EXPECT_EQ(sum, kTotal);
    EXPECT_EQ(table.freq(0), 1u);
    for (uint32_t slot : {0u, kTotal / 3, kTotal - 1}) {
      uint32_t cum = 0;
      const int32_t t = table.find(slot, cum);
      EXPECT_EQ(cum, table.cum(t));
      EXPECT_GE(slot, cum);
      EXPECT_LT(slot, cum + table.freq(t));
    }
  }
}

TEST(ZipFrequencies, NonFiniteLogits) {
  FrequencyTable table;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  table.build(std::vector<float>{-inf, -inf, nan, -inf});  // nothing usable: uniform
  for (int32_t t = 0; t < 4; ++t) EXPECT_EQ(table.freq(t), kTotal / 4);
  table.build(std::vector<float>{1, nan, inf, 3});  // +inf takes everything but the floors
  EXPECT_EQ(table.freq(0), 1u);
  EXPECT_EQ(table.freq(1), 1u);
  EXPECT_EQ(table.freq(2), kTotal - 3);
  EXPECT_EQ(table.freq(3), 1u);
}

}  // namespace
}  // namespace ortlm::zip
