// Many sequences per forward pass. The oracle is each sequence run alone: in one batch, prompts of
// different lengths (left-padded, masked) must give the same logits (within float rounding) and the
// same ids, on every layout the loader supports; rows leave and fork (KV gathers) without changing
// the others. On the bundled model, batched greedy also reproduces llama2.c's reference ids.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <nlohmann/json.hpp>
#include <thread>

#include "layout_cases.hpp"
#include "model/decoder.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"
#include "single_sequence.hpp"
#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm {
namespace {

using Case = test::LayoutCase;

std::vector<std::vector<int32_t>> prompts_for(int32_t vocab, std::initializer_list<int> lengths) {
  std::vector<std::vector<int32_t>> out;
  int salt = 0;
  for (int n : lengths) {
    auto& p = out.emplace_back();
    for (int i = 0; i < n; ++i) p.push_back((i * 37 + 5 + salt * 11) % vocab);
    ++salt;
  }
  return out;
}

using test::max_difference;

class BatchedVersusAlone : public ::testing::TestWithParam<Case> {};

// Runner level: three prompts (5, 1 and 9 tokens) in one prefill pass, then decoded together; after
// three steps row 1 leaves and row 0 forks into two rows (a KV gather), as beams do.
TEST_P(BatchedVersusAlone, EveryRowHasItsOwnLogits) {
  const Case& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  const auto model = Model::load(c.path);
  const model::Decoder& decoder = model->decoder();
  ASSERT_TRUE(decoder.layout.padded_batches) << decoder.layout.why_single_row;
  EXPECT_EQ(decoder.layout.padding == model::Padding::right, c.name == "genai-gqa");
  const int32_t vocab = static_cast<int32_t>(decoder.layout.vocab_size);
  const auto prompts = prompts_for(vocab, {5, 1, 9});
  constexpr size_t kSteps = 8;
  std::vector<std::vector<std::vector<float>>> expected;
  for (const auto& p : prompts) expected.push_back(test::greedy_logits(*model, p, kSteps));

  model::ModelRunner runner(decoder);
  model::PaddedKvCache kv(decoder.layout);
  kv.reset(3, 9 + kSteps);
  model::ForwardBatch batch;
  for (const auto& p : prompts) batch.rows.push_back({.tokens = p});
  // Which alone-run each batch row follows.
  std::vector<size_t> follows{0, 1, 2};
  std::vector<int32_t> next(3);
  float worst = 0;
  const model::Logits* logits = &runner.run(batch, kv);
  for (size_t step = 0; step < kSteps; ++step) {
    for (size_t r = 0; r < follows.size(); ++r) {
      const auto& want = expected[follows[r]][step];
      ASSERT_EQ(test::argmax(logits->at(r)), test::argmax(want))
          << c.name << " row " << r << " step " << step;
      worst = std::max(worst, max_difference(logits->at(r), want));
      next[r] = test::argmax(logits->at(r));
    }
    if (step + 1 == kSteps) break;
    if (step == 2) {
      const int32_t keep[] = {0, 0, 2};  // row 1 leaves, row 0 forks
      kv.reorder(keep);
      follows = {0, 0, 2};
      next = {next[0], next[0], next[2]};
    }
    for (size_t r = 0; r < follows.size(); ++r)
      batch.rows[r] = {.tokens = std::span<const int32_t>(&next[r], 1)};
    logits = &runner.run(batch, kv);
  }
  EXPECT_LE(worst, c.tolerance) << c.name;
  RecordProperty("max_abs_logit_difference", std::to_string(worst));
}

// Engine level: four requests with different prompt lengths and token limits, two waves of at most
// three rows, prompts prefilled 4 columns per pass (12 tokens / 3 rows; GroupQueryAttention: waves
// of at most 12 padded prompt tokens, {5, 1}, {9}, {3}): every result equals the request run alone.
TEST_P(BatchedVersusAlone, EngineGivesEachRequestItsAloneIds) {
  const Case& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  const auto model = Model::load(c.path);
  const auto prompts = prompts_for(model->config().vocab_size, {5, 1, 9, 3});
  const int32_t limits[] = {12, 7, 12, 3};
  auto options_for = [&](size_t i) {
    GenerationOptions options;
    options.greedy = true;
    options.stop_at_eos = false;
    options.max_new_tokens = limits[i];
    return options;
  };
  std::vector<GenerationResult> expected;
  Generator generator(model);
  for (size_t i = 0; i < prompts.size(); ++i)
    expected.push_back(generator.generate(prompts[i], options_for(i)));

  Engine engine(model, {.max_batch_rows = 3, .prefill_chunk = 12});
  for (size_t i = 0; i < prompts.size(); ++i) engine.add_request(prompts[i], options_for(i));
  const auto results = engine.run();
  ASSERT_EQ(results.size(), prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    EXPECT_EQ(results[i].second.new_ids, expected[i].new_ids) << c.name << " request " << i;
    EXPECT_EQ(results[i].second.stop_reason, StopReason::max_tokens) << c.name << " request " << i;
    EXPECT_EQ(results[i].second.text, expected[i].text) << c.name << " request " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, BatchedVersusAlone, ::testing::ValuesIn(test::layout_cases()),
                         [](const auto& info) { return test::case_name(info.param.name); });

class BundledEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = Model::load(test::bundled_model()); }
  static void TearDownTestSuite() { model_.reset(); }
  static std::shared_ptr<Model> model_;
};
std::shared_ptr<Model> BundledEngine::model_;

TEST_F(BundledEngine, BatchedGreedyReproducesReferenceIds) {
  const auto references = util::read_json_file(test::bundled_model() / "reference.json")["references"];
  Engine engine(model_);
  std::vector<std::vector<int32_t>> expected;
  for (const auto& ref : references) {
    expected.push_back(ref["greedy_new_ids"].get<std::vector<int32_t>>());
    GenerationOptions options;
    options.greedy = true;
    options.max_new_tokens = static_cast<int32_t>(expected.back().size());
    engine.add_request(ref["prompt_ids"].get<std::vector<int32_t>>(), options);
  }
  ASSERT_GE(expected.size(), 2u);
  const auto results = engine.run();
  ASSERT_EQ(results.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_EQ(results[i].second.new_ids, expected[i]) << i;
}

GenerationOptions seeded(uint64_t seed, int32_t tokens) {
  GenerationOptions options;
  options.temperature = 0.9f;
  options.top_p = 0.95f;
  options.seed = seed;
  options.stop_at_eos = false;
  options.max_new_tokens = tokens;
  return options;
}

TEST_F(BundledEngine, SeededSamplingIgnoresBatchNeighboursAndThreads) {
  const std::vector<int32_t> prompt = model_->tokenizer()->encode_ids("Once upon a time", true);
  Generator generator(model_);
  const auto alone = generator.generate(prompt, seeded(7, 40));

  Engine engine(model_);
  engine.add_request(model_->tokenizer()->encode_ids("The dog", true), seeded(1, 25));
  const RequestId id = engine.add_request(prompt, seeded(7, 40));
  engine.add_request(model_->tokenizer()->encode_ids("Lily went to the park and", true), seeded(2, 60));
  for (const auto& [request, result] : engine.run()) {
    if (request == id) {
      EXPECT_EQ(result.new_ids, alone.new_ids);
    }
  }

  SessionOptions two_threads;
  two_threads.intra_op_threads = 2;
  const auto other = Model::load(test::bundled_model(), two_threads);
  EXPECT_EQ(Generator(other).generate(prompt, seeded(7, 40)).new_ids, alone.new_ids);
}

TEST_F(BundledEngine, AbortFromCallbackAndFromAnotherThread) {
  Engine engine(model_);
  std::atomic<int> tokens_of_second{0};
  RequestId second = 0;
  GenerationOptions long_run = seeded(3, 400);
  // The first request aborts the second from its own callback after 5 tokens.
  int first_tokens = 0;
  const RequestId first =
      engine.add_request("Once upon a time", seeded(4, 30), [&](int32_t, std::string_view) {
        if (++first_tokens == 5) engine.abort(second);
        return true;
      });
  second = engine.add_request("The cat", long_run, [&](int32_t, std::string_view) {
    ++tokens_of_second;
    return true;
  });
  // The third is aborted by another thread once it has produced 3 tokens.
  std::atomic<int> tokens_of_third{0};
  const RequestId third = engine.add_request("A bird", long_run, [&](int32_t, std::string_view) {
    ++tokens_of_third;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return true;
  });
  std::thread aborter([&] {
    while (tokens_of_third < 3) std::this_thread::yield();
    engine.abort(third);
  });
  const auto results = engine.run();
  aborter.join();
  ASSERT_EQ(results.size(), 3u);
  for (const auto& [request, result] : results) {
    if (request == first) {
      EXPECT_EQ(result.stop_reason, StopReason::max_tokens);
      EXPECT_EQ(result.new_ids.size(), 30u);
    } else {
      EXPECT_EQ(result.stop_reason, StopReason::cancelled) << request;
      EXPECT_LT(result.new_ids.size(), 400u) << request;
    }
  }
  EXPECT_EQ(tokens_of_second.load(), 5);  // aborted in the step that gave the first its 5th token
}

// Requests that finish while waiting (aborted in the queue, nothing to generate) are reported at
// once, not when they would have been admitted.
TEST_F(BundledEngine, WaitingRequestsThatFinishAreReportedAtOnce) {
  Engine engine(model_, {.max_batch_rows = 1});
  const RequestId running = engine.add_request("Once upon a time", seeded(1, 50));
  const RequestId queued = engine.add_request("The dog", seeded(2, 50));
  const RequestId empty = engine.add_request("The cat", seeded(3, 0));
  engine.abort(queued);
  ASSERT_TRUE(engine.step());
  auto done = engine.take_finished();
  ASSERT_EQ(done.size(), 2u);
  for (const auto& [id, result] : done) {
    EXPECT_TRUE(id == queued || id == empty) << id;
    EXPECT_EQ(result.stop_reason, id == queued ? StopReason::cancelled : StopReason::max_tokens);
    EXPECT_TRUE(result.new_ids.empty());
  }
  const auto rest = engine.run();
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].first, running);
  EXPECT_EQ(rest[0].second.new_ids.size(), 50u);
}

TEST_F(BundledEngine, BadRequestIsRefusedAndTheOthersFinish) {
  Engine engine(model_, {.max_batch_rows = 4});
  const RequestId good = engine.add_request("Once upon a time", seeded(1, 10));
  std::vector<int32_t> too_long(static_cast<size_t>(model_->config().context_length) + 1, 1);
  EXPECT_NE(test::error_message([&] {
              engine.add_request(too_long, seeded(1, 10));
            }).find("more than the model's context length"),
            std::string::npos);
  const std::vector<int32_t> bad_id{1, model_->config().vocab_size};
  EXPECT_NE(test::error_message([&] {
              engine.add_request(bad_id, seeded(1, 10));
            }).find("outside the model's vocabulary"),
            std::string::npos);
  GenerationOptions bad = seeded(1, 10);
  bad.top_p = 2;
  EXPECT_NE(test::error_message([&] { engine.add_request("x", bad); }).find("top_p"), std::string::npos);
  const auto results = engine.run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].first, good);
  EXPECT_EQ(results[0].second.new_ids.size(), 10u);
}

TEST_F(BundledEngine, EmptyEngineAndBadOptions) {
  Engine engine(model_);
  EXPECT_FALSE(engine.step());
  EXPECT_TRUE(engine.run().empty());
  EXPECT_NE(test::error_message([&] { Engine(model_, {.max_batch_rows = 0}); }).find("max_batch_rows"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { Engine(model_, {.max_batch_rows = kMaxBatchRows + 1}); }).find("256"),
            std::string::npos);
  EXPECT_NE(test::error_message([&] { Engine(model_, {.prefill_chunk = 0}); }).find("prefill_chunk"),
            std::string::npos);
}

// Stop strings that span token boundaries, in neighbouring rows: each row's text is cut right before
// its own stop string, and nothing of the stop string was ever streamed.
TEST_F(BundledEngine, StopStringsSplitAcrossTokensInABatch) {
  // Greedy: "Once upon a time, there was a little girl named Lily. She loved to play outside ..."
  const std::pair<const char*, const char*> cases[] = {
      {"le gi", ", there was a litt"}, {"Lily. S", ", there was a little girl named "}, {"e was", ", ther"}};
  Engine engine(model_);
  std::vector<std::string> streamed(std::size(cases));
  for (size_t i = 0; i < std::size(cases); ++i) {
    GenerationOptions options;
    options.greedy = true;
    options.max_new_tokens = 40;
    options.stop_strings = {cases[i].first, "never appears"};
    engine.add_request("Once upon a time", options, [&streamed, i](int32_t, std::string_view text) {
      streamed[i] += text;
      return true;
    });
  }
  const auto results = engine.run();
  ASSERT_EQ(results.size(), std::size(cases));
  for (size_t i = 0; i < std::size(cases); ++i) {
    EXPECT_EQ(results[i].second.stop_reason, StopReason::stop_string) << cases[i].first;
    EXPECT_EQ(results[i].second.text, cases[i].second) << cases[i].first;
    EXPECT_EQ(streamed[i], cases[i].second) << cases[i].first;
  }
}

// A broken model (NaN logits) fails each request with the reason, never an id drawn from garbage;
// the engine goes on to the next request.
TEST(EngineErrors, NanLogitsFailTheRequestsNotTheEngine) {
  const auto model = Model::load(test::test_models() / "bad-nan-logits");
  Engine engine(model, {.max_batch_rows = 1});
  GenerationOptions options;
  options.greedy = true;
  options.max_new_tokens = 5;
  engine.add_request(std::vector<int32_t>{1, 2, 3}, options);
  engine.add_request(std::vector<int32_t>{4}, options);
  const auto results = engine.run();
  ASSERT_EQ(results.size(), 2u);
  for (const auto& [id, result] : results) {
    EXPECT_EQ(result.stop_reason, StopReason::error);
    EXPECT_NE(result.error.find("non-finite logit (nan"), std::string::npos) << result.error;
    EXPECT_TRUE(result.new_ids.empty());
  }
  EXPECT_NE(test::error_message([&] {
              Generator(model).generate(std::vector<int32_t>{1}, options);
            }).find("non-finite logit"),
            std::string::npos);
}

// A request that reaches the context ends with context_full while its neighbour goes on.
TEST_F(BundledEngine, RowAtTheContextEndsAloneAtTheRightLength) {
  const int32_t context = model_->config().context_length;
  std::vector<int32_t> nearly_full(static_cast<size_t>(context - 3), 1);
  Engine engine(model_);
  engine.add_request(nearly_full, seeded(5, 100));
  engine.add_request("Once upon a time", seeded(6, 20));
  const auto results = engine.run();
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].second.stop_reason, StopReason::context_full);
  EXPECT_EQ(results[0].second.new_ids.size(), 4u);  // the last one is not fed
  EXPECT_EQ(results[1].second.new_ids.size(), 20u);
}

}  // namespace
}  // namespace ortlm
