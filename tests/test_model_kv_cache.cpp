// For every generated test model (each layout the loader supports) and the shared GenAI GPT-2,
// generation with the KV cache gives the same tokens and logits as recomputing the whole sequence.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "layout_cases.hpp"
#include "ortlm/model.hpp"
#include "single_sequence.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

using Case = test::LayoutCase;

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

class KvCacheVersusRecompute : public ::testing::TestWithParam<Case> {};

TEST_P(KvCacheVersusRecompute, SameTokensAndLogits) {
  const Case& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  auto model = Model::load(c.path);
  test::SingleSequence runner(*model);
  const int32_t vocab = runner.vocab_size();
  std::vector<int32_t> sequence{1 % vocab, 17 % vocab, 42 % vocab, 99 % vocab, 7 % vocab};
  const size_t prompt = sequence.size(), steps = 24;

  // With the cache: prefill once, then one token per step.
  std::vector<std::vector<float>> cached_logits;
  runner.begin(static_cast<int32_t>(prompt + steps));
  auto logits = runner.forward(sequence);
  for (size_t step = 0; step < steps; ++step) {
    cached_logits.emplace_back(logits.begin(), logits.end());
    sequence.push_back(argmax(logits));
    logits = runner.forward(std::span<const int32_t>(&sequence.back(), 1));
  }

  // Without: the whole sequence from scratch for every step.
  float worst = 0;
  for (size_t step = 0; step < steps; ++step) {
    runner.begin(static_cast<int32_t>(prompt + steps));
    const auto full = runner.forward(std::span<const int32_t>(sequence.data(), prompt + step));
    ASSERT_EQ(argmax(full), sequence[prompt + step]) << c.name << " step " << step;
    for (int32_t i = 0; i < vocab; ++i) worst = std::max(worst, std::abs(full[i] - cached_logits[step][i]));
  }
  EXPECT_LE(worst, c.tolerance) << c.name;
  RecordProperty("max_abs_logit_difference", std::to_string(worst));
}

TEST_P(KvCacheVersusRecompute, ChunkedPrefillEqualsOneShot) {
  const Case& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  auto model = Model::load(c.path);
  test::SingleSequence runner(*model);
  const int32_t vocab = runner.vocab_size();
  std::vector<int32_t> prompt;
  for (int32_t i = 0; i < 23; ++i) prompt.push_back((i * 37 + 5) % vocab);
  runner.begin(64);
  const auto one_shot = runner.forward(prompt);
  const std::vector<float> expected(one_shot.begin(), one_shot.end());
  runner.begin(64);
  const auto chunked = runner.forward(prompt, 4);
  for (int32_t i = 0; i < vocab; ++i)
    ASSERT_NEAR(chunked[i], expected[i], c.tolerance) << c.name << " logit " << i;
}

INSTANTIATE_TEST_SUITE_P(Layouts, KvCacheVersusRecompute, ::testing::ValuesIn(test::layout_cases()),
                         [](const auto& info) { return test::case_name(info.param.name); });

}  // namespace
}  // namespace ortlm
