// The dense KV cache when its rows change between passes, as continuous batching and the prefix
// cache change them: rows prefilled apart and appended to running ones, rows leaving (and the
// padding nobody needs dropped), KV stored into pool blocks and loaded back into a fresh row. The
// oracle is each sequence run alone (tests/single_sequence.hpp), on every layout.
#include <gtest/gtest.h>

#include "layout_cases.hpp"
#include "model/kv_block_pool.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"
#include "single_sequence.hpp"

namespace ortlm {
namespace {

using Case = test::LayoutCase;

using test::max_difference;
using test::token_ids;

class KvRows : public ::testing::TestWithParam<Case> {};

// A (20 tokens) runs; B (3 tokens) is prefilled in a cache of its own and appended; both decode;
// A leaves and B's row loses the padding it no longer needs; B decodes on. Every logits row equals
// the sequence alone.
TEST_P(KvRows, AppendedRowsAndRowsLeavingKeepEachSequenceExact) {
  const Case& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  const auto model = Model::load(c.path);
  const model::Decoder& decoder = model->decoder();
  const auto vocab = static_cast<int32_t>(decoder.layout.vocab_size);
  const auto a = token_ids(vocab, 20, 0), b = token_ids(vocab, 3, 1);
  constexpr size_t kSteps = 6;
  const auto want_a = test::greedy_logits(*model, a, kSteps), want_b = test::greedy_logits(*model, b, kSteps);

  model::ModelRunner runner(decoder);
  model::PaddedKvCache running(decoder.layout), admitted(decoder.layout);
  model::ForwardBatch one{{{.tokens = a}}};
  running.reset(1, 21);
  std::vector<int32_t> next{test::argmax(runner.run(one, running).at(0))};
  admitted.reset(1, 4);
  one.rows[0].tokens = b;
  next.push_back(test::argmax(runner.run(one, admitted).at(0)));
  running.append(admitted);
  ASSERT_EQ(running.rows(), 2u);
  EXPECT_EQ(running.length(0), 20);
  EXPECT_EQ(running.length(1), 3);

  model::ForwardBatch two{{{}, {}}};
  float worst = 0;
  for (size_t step = 1; step < kSteps; ++step) {
    if (step == 3) {  // A leaves: B keeps only the columns it uses
      const int32_t keep[] = {1};
      running.reorder(keep);
      EXPECT_EQ(running.width(), running.length(0)) << c.name;
      next.erase(next.begin());
      two.rows.resize(1);
    }
    for (size_t r = 0; r < two.rows.size(); ++r) two.rows[r].tokens = {&next[r], 1};
    const auto& logits = runner.run(two, running);
    for (size_t r = 0; r < two.rows.size(); ++r) {
      const auto& want = (two.rows.size() == 2 && r == 0) ? want_a[step] : want_b[step];
      ASSERT_EQ(test::argmax(logits.at(r)), test::argmax(want)) << c.name << " row " << r << " step " << step;
      worst = std::max(worst, max_difference(logits.at(r), want));
      next[r] = test::argmax(logits.at(r));
    }
  }
  EXPECT_LE(worst, c.tolerance) << c.name;
}

// A prompt's first 12 tokens stored into blocks of 4, loaded into a fresh cache (rows with 8 and 12
// cached tokens side by side), the rest of each prompt computed: the logits equal the whole prompt
// computed at once.
TEST_P(KvRows, BlocksStoredAndLoadedBackContinueExactly) {
  const Case& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  const auto model = Model::load(c.path);
  const model::Decoder& decoder = model->decoder();
  const auto vocab = static_cast<int32_t>(decoder.layout.vocab_size);
  const auto prompt = token_ids(vocab, 15, 2);
  const auto want = test::greedy_logits(*model, prompt, 1)[0];

  model::ModelRunner runner(decoder);
  model::KvBlockPool pool(decoder.layout, 4, 8);
  model::PaddedKvCache kv(decoder.layout);
  kv.reset(1, 16);
  model::ForwardBatch batch{{{.tokens = prompt}}};
  runner.run(batch, kv);
  const int32_t blocks[] = {5, 2, 7};  // any blocks, in any order
  kv.store(0, 0, blocks, pool);
  EXPECT_THROW(kv.store(0, 12, blocks, pool), Error);  // beyond the row's 15 tokens

  // Right-padded graphs take one row per prefill with a past (model::Padding); the others two.
  const bool right = decoder.layout.padding == model::Padding::right;
  const std::vector<int64_t> cached = right ? std::vector<int64_t>{12} : std::vector<int64_t>{8, 12};
  std::vector<std::span<const int32_t>> tables(cached.size(), std::span<const int32_t>(blocks));
  kv.reset(cached.size(), 16);
  kv.load(tables, cached, pool);
  model::ForwardBatch rest;
  for (int64_t n : cached) rest.rows.push_back({.tokens = std::span<const int32_t>(prompt).subspan(n)});
  const auto& logits = runner.run(rest, kv);
  for (size_t r = 0; r < cached.size(); ++r) {
    EXPECT_EQ(kv.length(r), 15);
    EXPECT_LE(max_difference(logits.at(r), want), c.tolerance) << c.name << " row " << r;
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, KvRows, ::testing::ValuesIn(test::layout_cases()),
                         [](const auto& info) { return test::case_name(info.param.name); });

}  // namespace
}  // namespace ortlm
