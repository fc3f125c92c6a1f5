// Continuous batching and the prefix cache, at the engine level, with dense and paged KV (paged
// where the layout allows it). Oracle: each request run alone by an engine without a cache
// (Generator, dense). Requests arrive while others run, share a system prompt,
// continue an earlier request's conversation (its generated tokens cached too), are cancelled; the
// ids never change, the cache is used (counted), and no block stays referenced afterwards.
#include <gtest/gtest.h>

#include "layout_cases.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

using Case = test::LayoutCase;

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

using test::greedy;

class PrefixCache : public ::testing::TestWithParam<std::tuple<Case, KvCacheKind>> {};

TEST_P(PrefixCache, ArrivalsSharedPrefixesAndContinuationsKeepTheAloneIds) {
  const auto& [c, kind] = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  const auto model = Model::load(c.path);
  const int32_t vocab = model->config().vocab_size;
  const auto system = test::token_ids(vocab, 13, 0);  // 3 full blocks of 4, and one token more
  std::vector<std::vector<int32_t>> prompts = {
      concat(system, test::token_ids(vocab, 2, 1)), concat(system, test::token_ids(vocab, 5, 2)),
      test::token_ids(vocab, 7, 3), concat(system, test::token_ids(vocab, 1, 4)), system};
  const int32_t limit = 6;
  Generator alone(model);
  std::vector<std::vector<int32_t>> expected;
  for (const auto& p : prompts) expected.push_back(alone.generate(p, greedy(limit)).new_ids);
  // A continuation of request 0's conversation: its prompt, its answer and a new turn.
  prompts.push_back(concat(concat(prompts[0], expected[0]), test::token_ids(vocab, 3, 5)));
  expected.push_back(alone.generate(prompts.back(), greedy(limit)).new_ids);

  Engine engine(model, {.max_batch_rows = 3,
                        .prefill_chunk = 8,
                        .prefix_cache_mib = 1,
                        .kv_block_size = 4,
                        .kv_cache = kind,
                        .kv_cache_mib = 1});
  std::map<RequestId, size_t> index;
  std::vector<std::vector<int32_t>> got(prompts.size());
  auto add = [&](size_t i) { index[engine.add_request(prompts[i], greedy(limit))] = i; };
  auto take = [&] {
    for (auto& [id, result] : engine.take_finished()) got[index.at(id)] = result.new_ids;
  };
  add(0);
  for (int s = 0; s < 3; ++s) engine.step();  // request 0 decodes alone
  add(1);
  add(2);
  engine.step();  // 1 and 2 join the running request: 3 rows
  add(3);         // waits for a free row
  add(4);
  while (engine.has_unfinished()) {
    engine.step();
    take();
  }
  EngineStats stats = engine.stats();
  // 1, 3 and 4 find the system prompt's 3 blocks (4 keeps its last token to compute: 12 tokens),
  // unless they were admitted before request 0 stored them.
  EXPECT_GE(stats.cached_prompt_tokens, 2u * 12u) << c.name;
  const uint64_t cached_before = stats.cached_prompt_tokens;
  add(5);
  while (engine.has_unfinished()) {
    engine.step();
    take();
  }
  for (size_t i = 0; i < prompts.size(); ++i) EXPECT_EQ(got[i], expected[i]) << c.name << " request " << i;
  stats = engine.stats();
  // Request 0's KV (prompt + answer but its last token) was cached block by block: 15 + 6 - 1 = 20
  // tokens, 5 blocks.
  EXPECT_EQ(stats.cached_prompt_tokens - cached_before, 20u) << c.name;
  EXPECT_EQ(stats.blocks_used, 0) << c.name;
  EXPECT_GT(stats.blocks_cached, 0) << c.name;
  EXPECT_EQ(stats.running, 0u);
  EXPECT_EQ(stats.generated_tokens, prompts.size() * static_cast<size_t>(limit));
}

// automatic: paged where the layout allows it (the Llama-family optimum layouts), else dense.
INSTANTIATE_TEST_SUITE_P(Layouts, PrefixCache,
                         ::testing::Combine(::testing::ValuesIn(test::layout_cases()),
                                            ::testing::Values(KvCacheKind::dense, KvCacheKind::automatic)),
                         [](const auto& info) {
                           return test::case_name(std::get<0>(info.param).name) +
                                  (std::get<1>(info.param) == KvCacheKind::dense ? "_dense" : "_automatic");
                         });

class PrefixCacheBundled : public ::testing::TestWithParam<KvCacheKind> {};

TEST_P(PrefixCacheBundled, CancelledRequestsGiveTheirBlocksBack) {
  const auto model = Model::load(test::bundled_model());
  Engine engine(model,
                {.max_batch_rows = 4, .prefix_cache_mib = 1, .kv_block_size = 4, .kv_cache = GetParam()});
  EXPECT_EQ(engine.stats().paged, GetParam() == KvCacheKind::paged);
  const auto prompt =
      model->tokenizer()->encode_ids("Once upon a time, there was a little girl named Lily.", true);
  std::vector<RequestId> ids;
  for (int i = 0; i < 4; ++i) ids.push_back(engine.add_request(prompt, greedy(64)));
  for (int s = 0; s < 4; ++s) engine.step();
  EXPECT_GT(engine.stats().blocks_used, 0);
  for (RequestId id : ids) engine.abort(id);
  engine.step();
  const EngineStats stats = engine.stats();
  EXPECT_EQ(stats.blocks_used, 0);
  EXPECT_EQ(stats.running, 0u);
  EXPECT_GT(stats.blocks_cached, 0);
  for (auto& [id, result] : engine.take_finished()) EXPECT_EQ(result.stop_reason, StopReason::cancelled);
}

INSTANTIATE_TEST_SUITE_P(Kinds, PrefixCacheBundled, ::testing::Values(KvCacheKind::dense, KvCacheKind::paged),
                         [](const auto& info) {
                           return info.param == KvCacheKind::dense ? "dense" : "paged";
                         });

TEST(PrefixCacheOptions, OutOfRangeAreRefused) {
  const auto model = Model::load(test::bundled_model());
  EXPECT_THROW(Engine(model, {.prefix_cache_mib = -1}), Error);
  EXPECT_THROW(Engine(model, {.prefix_cache_mib = kMaxPrefixCacheMib + 1}), Error);
  EXPECT_THROW(Engine(model, {.prefix_cache_mib = 1, .kv_block_size = 0}), Error);
  EXPECT_THROW(Engine(model, {.prefix_cache_mib = 1, .kv_block_size = kMaxKvBlockSize + 1}), Error);
  EXPECT_THROW(Engine(model, {.kv_cache = KvCacheKind::paged, .kv_cache_mib = -1}), Error);
}

}  // namespace
}  // namespace ortlm
