// The engine on paged KV (KvCacheKind::paged): preemption when blocks run out, beams sharing blocks
// (copy on write), long prompts prefilled in chunks beside decoding rows, and clear errors. Oracle:
// each request run alone by a dense engine (Generator), whose ids the paged engine must reproduce.
#include <gtest/gtest.h>

#include <map>

#include "layout_cases.hpp"
#include "model/decoder.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

using test::greedy;

std::shared_ptr<Model> bundled() {
  static const auto model = Model::load(test::bundled_model());
  return model;
}

std::vector<std::vector<int32_t>> prompts(size_t count, int length) {
  std::vector<std::vector<int32_t>> out;
  for (size_t i = 0; i < count; ++i)
    out.push_back(test::token_ids(bundled()->config().vocab_size, length, static_cast<int>(i)));
  return out;
}

std::vector<std::vector<int32_t>> alone(const std::vector<std::vector<int32_t>>& prompts,
                                        const GenerationOptions& options) {
  Generator generator(bundled());
  std::vector<std::vector<int32_t>> out;
  for (const auto& p : prompts) out.push_back(generator.generate(p, options).new_ids);
  return out;
}

// Runs every prompt through `engine` at once; returns the new ids in prompt order.
std::vector<std::vector<int32_t>> together(Engine& engine, const std::vector<std::vector<int32_t>>& prompts,
                                           const GenerationOptions& options) {
  std::map<RequestId, size_t> index;
  for (size_t i = 0; i < prompts.size(); ++i) index[engine.add_request(prompts[i], options)] = i;
  std::vector<std::vector<int32_t>> out(prompts.size());
  for (auto& [id, result] : engine.run()) {
    EXPECT_EQ(result.stop_reason, StopReason::max_tokens) << result.error;
    out[index.at(id)] = result.new_ids;
  }
  return out;
}

// 8 sequences of 20 + 200 tokens need 1,760 positions; 1 MiB holds 819 of the bundled model's
// (5 layers x 2 x 4 heads x 8 x 4 bytes a token), 2 MiB 1,638: the newest are preempted and
// recomputed.
TEST(PagedEngine, PreemptedSequencesResumeWithTheSameIds) {
  const auto requests = prompts(8, 20);
  const auto options = greedy(200);
  const auto expected = alone(requests, options);
  for (int32_t cache_mib : {0, 1}) {  // recomputed from scratch, or mostly from cached blocks
    Engine engine(bundled(), {.max_batch_rows = 8,
                              .prefix_cache_mib = cache_mib,
                              .kv_block_size = 4,
                              .kv_cache = KvCacheKind::paged,
                              .kv_cache_mib = 1});
    const auto got = together(engine, requests, options);
    const EngineStats stats = engine.stats();
    EXPECT_TRUE(stats.paged);
    EXPECT_GT(stats.preemptions, 0u) << "cache " << cache_mib;
    EXPECT_EQ(stats.blocks_used, 0);
    EXPECT_EQ(stats.generated_tokens, 8u * 200u);
    for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "request " << i;
  }
}

TEST(PagedEngine, SampledRequestsResumeWithTheirSeededStream) {
  auto options = greedy(120);
  options.greedy = false;
  options.temperature = 0.9f;
  options.top_p = 0.95f;
  options.seed = 1234;
  const auto requests = prompts(6, 30);
  const auto expected = alone(requests, options);
  Engine engine(bundled(),
                {.max_batch_rows = 6, .kv_block_size = 8, .kv_cache = KvCacheKind::paged, .kv_cache_mib = 1});
  const auto got = together(engine, requests, options);
  EXPECT_GT(engine.stats().preemptions, 0u);
  for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "request " << i;
}

// Beams fork from one prefilled row: their tables share the prompt's blocks, and the partly filled
// last block is copied before a beam writes into it.
TEST(PagedEngine, BeamSearchSharesBlocksAndMatchesTheDensePath) {
  GenerationOptions options = greedy(24);
  options.greedy = false;
  options.num_beams = 4;
  options.num_return_sequences = 2;
  const auto prompt = test::token_ids(bundled()->config().vocab_size, 10, 3);  // 2.5 blocks of 4
  Generator dense(bundled());
  const auto expected = dense.generate(prompt, options);
  Engine engine(bundled(), {.max_batch_rows = 8, .kv_block_size = 4, .kv_cache = KvCacheKind::paged});
  const RequestId beam = engine.add_request(prompt, options);
  const RequestId plain = engine.add_request(prompt, greedy(30));  // beside them, sharing nothing
  auto results = engine.run();
  ASSERT_EQ(results.size(), 2u);
  ASSERT_EQ(results[0].first, beam);
  const GenerationResult& got = results[0].second;
  ASSERT_EQ(got.sequences.size(), expected.sequences.size());
  for (size_t i = 0; i < got.sequences.size(); ++i) {
    EXPECT_EQ(got.sequences[i].new_ids, expected.sequences[i].new_ids) << "hypothesis " << i;
    EXPECT_NEAR(got.sequences[i].score, expected.sequences[i].score, 1e-3);
  }
  EXPECT_EQ(results[1].first, plain);
  EXPECT_EQ(results[1].second.new_ids, dense.generate(prompt, greedy(30)).new_ids);
  EXPECT_EQ(engine.stats().blocks_used, 0);
}

// Prompts longer than the token budget are prefilled in chunks over several steps, each step's pass
// also carrying one token of every running row: the running ones never stall.
TEST(PagedEngine, LongPromptsArrivingWhileOthersDecode) {
  const auto requests = prompts(4, 90);
  const auto options = greedy(12);
  const auto expected = alone(requests, options);
  Engine engine(
      bundled(),
      {.max_batch_rows = 4, .prefill_chunk = 32, .kv_block_size = 16, .kv_cache = KvCacheKind::paged});
  std::map<RequestId, size_t> index;
  std::vector<std::vector<int32_t>> got(requests.size());
  size_t first_tokens = 0;
  index[engine.add_request(requests[0], options, [&](int32_t, std::string_view) {
    ++first_tokens;
    return true;
  })] = 0;
  while (first_tokens == 0) engine.step();
  for (size_t i = 1; i < requests.size(); ++i) {
    index[engine.add_request(requests[i], options)] = i;
    for (int s = 0; s < 3; ++s) {  // 90 tokens at most 31 a step: 3 steps
      const size_t before = first_tokens;
      engine.step();
      if (before < 12) {
        EXPECT_EQ(first_tokens, before + 1) << "request " << i << ", step " << s;
      }
    }
  }
  while (engine.has_unfinished()) engine.step();
  for (auto& [id, result] : engine.take_finished()) got[index.at(id)] = result.new_ids;
  for (size_t i = 0; i < requests.size(); ++i) EXPECT_EQ(got[i], expected[i]) << "request " << i;
}

TEST(PagedEngine, APromptThePoolCannotHoldIsAClearError) {
  // A context of 1,024 positions (RoPE is computed, not tabled, on the paged graph) and a pool of
  // 1 MiB: 819 positions of the bundled model.
  const auto model = Model::load(test::bundled_model(), {.context_length = 1024});
  Engine engine(model, {.kv_block_size = 16, .kv_cache = KvCacheKind::paged, .kv_cache_mib = 1});
  const RequestId too_long = engine.add_request(test::token_ids(512, 900, 1), greedy(4));
  const RequestId fits = engine.add_request(test::token_ids(512, 40, 2), greedy(4));
  for (auto& [id, result] : engine.run()) {
    if (id == too_long) {
      EXPECT_EQ(result.stop_reason, StopReason::error);
      EXPECT_NE(result.error.find("cannot hold 901 positions"), std::string::npos) << result.error;
    } else {
      EXPECT_EQ(id, fits);
      EXPECT_EQ(result.stop_reason, StopReason::max_tokens) << result.error;
    }
  }
  EXPECT_EQ(engine.stats().blocks_used, 0);
}

TEST(PagedEngine, OnlyADenseEngineMakesTheDenseSessionsRewrites) {
  const auto model = Model::load(test::bundled_model());
  Engine paged(model, {.kv_cache = KvCacheKind::paged});
  paged.add_request(test::token_ids(512, 20, 3), greedy(4));
  const auto paged_ids = paged.run().at(0).second.new_ids;
  EXPECT_EQ(paged_ids.size(), 4u);
  EXPECT_FALSE(model->dense_rewrites_made());  // the paged session alone: no second rewrite and probe
  // Nor the exported session's weights: released once the paged session was kept.
  EXPECT_FALSE(static_cast<bool>(model->decoder_as_loaded().session));
  // A dense engine afterwards gets it made again, rewritten, with the same greedy ids.
  Engine dense(model, {.kv_cache = KvCacheKind::dense});
  EXPECT_TRUE(model->dense_rewrites_made());
  EXPECT_TRUE(static_cast<bool>(model->decoder_as_loaded().session));
  EXPECT_EQ(model->attention_fusion_note().rfind("fused in 5 layers", 0), 0u)
      << model->attention_fusion_note();
  dense.add_request(test::token_ids(512, 20, 3), greedy(4));
  EXPECT_EQ(dense.run().at(0).second.new_ids, paged_ids);
  // The paged session stays usable beside it, and the exported session is kept now that dense
  // engines may hold it.
  Engine paged_again(model, {.kv_cache = KvCacheKind::paged});
  paged_again.add_request(test::token_ids(512, 20, 3), greedy(4));
  EXPECT_EQ(paged_again.run().at(0).second.new_ids, paged_ids);
  EXPECT_TRUE(static_cast<bool>(model->decoder_as_loaded().session));
}

TEST(PagedEngine, GraphsTheRewriteCannotHandleAreRefusedWithTheReason) {
  const auto path = test::test_models() / "gpt2-optimum";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing";
  const auto model = Model::load(path);
  try {
    Engine engine(model, {.kv_cache = KvCacheKind::paged});
    FAIL() << "paged KV accepted for GPT-2";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("paged KV is not available"), std::string::npos) << e.what();
  }
  Engine automatic(model, {.kv_cache = KvCacheKind::automatic});
  EXPECT_FALSE(automatic.stats().paged);
  EXPECT_TRUE(model->dense_rewrites_made());  // it fell back to the dense session
}

}  // namespace
}  // namespace ortlm
