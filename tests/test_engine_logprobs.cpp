// Logprobs: for every new token, the log-softmax of the model's raw logits at that step. The oracle
// recomputes the whole sequence from scratch for each step (no KV cache) and takes the log-softmax
// in double in the test; sampling with temperature and penalties must not change the numbers.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "ortlm/engine.hpp"
#include "single_sequence.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

std::vector<double> log_softmax(std::span<const float> logits) {
  const double m = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float x : logits) sum += std::exp(x - m);
  std::vector<double> out(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) out[i] = logits[i] - m - std::log(sum);
  return out;
}

GenerationOptions sampling_with_logprobs(int32_t top) {
  GenerationOptions options;
  options.temperature = 1.3f;
  options.top_k = 40;
  options.repetition_penalty = 1.2f;
  options.seed = 11;
  options.max_new_tokens = 24;
  options.stop_at_eos = false;
  options.logprobs = top;
  return options;
}

void expect_matches_recompute(const Model& model, const GenerationResult& result, size_t top) {
  ASSERT_EQ(result.logprobs.size(), result.new_ids.size());
  test::SingleSequence runner(model);
  std::vector<int32_t> sequence = result.prompt_ids;
  for (size_t step = 0; step < result.new_ids.size(); ++step) {
    runner.begin(static_cast<int32_t>(sequence.size()));
    const auto expected = log_softmax(runner.forward(sequence));
    const auto& got = result.logprobs[step];
    EXPECT_EQ(got.chosen.id, result.new_ids[step]);
    EXPECT_NEAR(got.chosen.logprob, expected[static_cast<size_t>(got.chosen.id)], 1e-4) << "step " << step;
    std::vector<int32_t> order(expected.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int32_t a, int32_t b) { return expected[a] > expected[b]; });
    ASSERT_EQ(got.top.size(), top);
    for (size_t k = 0; k < top; ++k) {
      EXPECT_EQ(got.top[k].id, order[k]) << "step " << step << " rank " << k;
      EXPECT_NEAR(got.top[k].logprob, expected[static_cast<size_t>(order[k])], 1e-4);
    }
    sequence.push_back(result.new_ids[step]);
  }
}

TEST(Logprobs, EqualTheLogSoftmaxOfAFullRecompute) {
  const auto model = Model::load(test::bundled_model());
  const auto prompt = model->tokenizer()->encode_ids("Once upon a time", true);
  const auto result = Generator(model).generate(prompt, sampling_with_logprobs(5));
  expect_matches_recompute(*model, result, 5);
}

TEST(Logprobs, SameInABatchAndOffByDefault) {
  const auto model = Model::load(test::bundled_model());
  Engine engine(model);
  const RequestId with = engine.add_request("The dog", sampling_with_logprobs(3));
  engine.add_request("Lily went to the park", sampling_with_logprobs(0));
  for (const auto& [id, result] : engine.run()) {
    if (id == with) {
      expect_matches_recompute(*model, result, 3);
    } else {
      EXPECT_TRUE(result.logprobs.empty());
    }
  }
}

TEST(Logprobs, OutOfRangeIsRefused) {
  for (int32_t bad : {-1, kMaxLogprobs + 1}) {
    GenerationOptions options;
    options.logprobs = bad;
    EXPECT_NE(test::error_message([&] { validate(options); }).find("logprobs"), std::string::npos) << bad;
  }
}

}  // namespace
}  // namespace ortlm
