// The packed, paged forward path (graph/passes/paged_attention, model/paged_attention_op,
// model/paged_runner, model/paged_session). The oracle is the dense path: each sequence run alone
// through ModelRunner + PaddedKvCache on the model as loaded (the exported graph, or its verified
// attention fusion). Packed batches mixing prefill chunks and decode steps of rows with different
// cached lengths, rows sharing prefix blocks, and scattered block tables must give every row the logits
// and greedy ids it gets alone; bad metadata must fail with a clear error and leave the runner usable.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include "graph/passes/paged_attention.hpp"
#include "layout_cases.hpp"
#include "model/decoder.hpp"
#include "model/kv_block_pool.hpp"
#include "model/paged_runner.hpp"
#include "model/paged_session.hpp"
#include "ortlm/model.hpp"
#include "single_sequence.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

namespace fs = std::filesystem;
using model::LogitsWanted;

fs::path model_path(const std::string& name) {
  return name == "stories260k" ? test::bundled_model() : test::test_models() / name;
}

// A model with its paged session, a pool of `blocks` blocks of `block_size` tokens and a runner.
struct Paged {
  std::shared_ptr<Model> model;
  model::PagedSession paged;
  model::KvBlockPool pool;
  model::PagedRunner runner;
  std::vector<int32_t> free_blocks;  // handed out in a shuffled order: tables are never contiguous

  Paged(const std::string& name, int32_t block_size, int32_t blocks)
      : model(Model::load(model_path(name))),
        paged(model::make_paged_session(*model)),
        pool(model->decoder().layout, block_size, blocks),
        runner(session(), model->decoder().layout, model->config().context_length, pool),
        free_blocks(static_cast<size_t>(blocks)) {
    std::iota(free_blocks.begin(), free_blocks.end(), 0);
    std::shuffle(free_blocks.begin(), free_blocks.end(), std::mt19937(7));
  }
  Ort::Session& session() {
    if (!paged.session) throw Error(paged.note);
    return *paged.session;
  }
  int32_t take_block() {
    const int32_t b = free_blocks.back();
    free_blocks.pop_back();
    return b;
  }
};

// One sequence on the paged path: its tokens, how many are in its blocks, its block table.
struct Row {
  std::vector<int32_t> ids;
  int32_t cached = 0;
  std::vector<int32_t> blocks;
  std::vector<std::vector<float>> logits;  // one per decode step (the prompt's last position first)

  // The next `n` uncached tokens as a batch row, with blocks added to cover them.
  model::PagedRow next(Paged& p, size_t n, LogitsWanted wanted) {
    const size_t total = static_cast<size_t>(cached) + n;
    while (blocks.size() * static_cast<size_t>(p.pool.block_size()) < total) blocks.push_back(p.take_block());
    return {.tokens = std::span<const int32_t>(ids).subspan(static_cast<size_t>(cached), n),
            .cached = cached,
            .blocks = blocks,
            .logits = wanted};
  }
};

std::vector<int32_t> prompt_of(size_t length, int32_t seed, int32_t vocab) {
  std::vector<int32_t> ids{1};
  for (size_t i = 1; i < length; ++i)
    ids.push_back(static_cast<int32_t>((i * 37 + seed * 11 + 5) % (vocab - 3)) + 3);
  return ids;
}

float worst_difference(std::span<const float> a, std::span<const float> b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::fabs(a[i] - b[i]));
  return worst;
}

class PagedModels : public ::testing::TestWithParam<std::string> {};

TEST_P(PagedModels, RewriteIsKeptAndTheProbeAgrees) {
  Paged p(GetParam(), 4, 8);
  ASSERT_TRUE(p.paged.session) << p.paged.note;
  EXPECT_EQ(p.paged.note.rfind("paged in " + std::to_string(p.model->config().num_layers) + " layers", 0), 0u)
      << p.paged.note;
  const auto difference = model::paged_probe_difference(
      p.model->decoder().session, p.session(), p.model->decoder().layout, p.model->config().context_length);
  EXPECT_LT(difference.logits, 1e-5);
  // The keys and values written into the pool are the exported graph's present tensors, where the
  // (scattered) block tables say; the keys rotated by the operator itself, so the float32 rounding of
  // its RoPE and of the layers before add up (1.1e-6 on stories260k's fifth layer).
  EXPECT_LT(difference.kv, 1e-5);
  // stories260k stores its LM head as a transposed copy of the embedding: the paged graph reads the
  // embedding itself, as the dense one does.
  EXPECT_EQ(p.paged.note.find("the LM head reads the tied embedding") != std::string::npos,
            GetParam() == "stories260k")
      << p.paged.note;
}

// Four sequences join at different steps (a prompt prefilled in two chunks, prefills packed with other
// rows' decode steps) and decode greedily; each row must follow its dense run alone for 40 steps.
TEST_P(PagedModels, PackedRowsMatchEachSequenceAloneOnTheDensePath) {
  Paged p(GetParam(), 16, 32);
  const int32_t vocab = p.model->config().vocab_size;
  constexpr size_t kSteps = 40;
  const std::vector<size_t> lengths{1, 7, 19, 33};
  const std::vector<size_t> joins{0, 0, 2, 5};  // the step each row's prompt enters
  std::vector<Row> rows(lengths.size());
  std::vector<std::vector<std::vector<float>>> expected;
  for (size_t r = 0; r < rows.size(); ++r) {
    rows[r].ids = prompt_of(lengths[r], static_cast<int32_t>(r), vocab);
    expected.push_back(test::greedy_logits(*p.model, rows[r].ids, kSteps));
  }
  float worst = 0;
  for (size_t step = 0;
       std::any_of(rows.begin(), rows.end(), [](const Row& r) { return r.logits.size() < kSteps; }); ++step) {
    model::PagedBatch batch;
    std::vector<size_t> in_batch;
    for (size_t r = 0; r < rows.size(); ++r) {
      Row& row = rows[r];
      if (step < joins[r] || row.logits.size() >= kSteps) continue;
      const size_t uncached = row.ids.size() - static_cast<size_t>(row.cached);
      // Row 3's prompt goes in two chunks: the first wants no logits.
      const bool first_chunk = r == 3 && row.cached == 0;
      const size_t n = first_chunk ? 13 : uncached;
      batch.rows.push_back(row.next(p, n, first_chunk ? LogitsWanted::none : LogitsWanted::last));
      in_batch.push_back(r);
    }
    const model::Logits& logits = p.runner.run(batch);
    for (size_t i = 0; i < in_batch.size(); ++i) {
      Row& row = rows[in_batch[i]];
      row.cached += static_cast<int32_t>(batch.rows[i].tokens.size());
      if (logits.count(i) == 0) continue;
      const auto got = logits.at(i);
      const auto& want = expected[in_batch[i]][row.logits.size()];
      worst = std::max(worst, worst_difference(got, want));
      ASSERT_EQ(test::argmax(got), test::argmax(want))
          << "row " << in_batch[i] << " step " << row.logits.size();
      row.logits.emplace_back(got.begin(), got.end());
      row.ids.push_back(test::argmax(got));
    }
  }
  EXPECT_LE(worst, 1e-4f) << GetParam();
}

// Two rows read the same prefix blocks: B's table starts with A's first two full blocks, and B
// prefills only its own suffix while A decodes, in the same passes.
TEST_P(PagedModels, RowsSharingPrefixBlocksReadTheSameKv) {
  Paged p(GetParam(), 8, 32);
  const int32_t vocab = p.model->config().vocab_size;
  Row a, b;
  a.ids = prompt_of(24, 3, vocab);
  b.ids.assign(a.ids.begin(), a.ids.begin() + 16);
  for (int32_t i = 0; i < 5; ++i) b.ids.push_back(static_cast<int32_t>((i * 13 + 40) % (vocab - 3)) + 3);
  constexpr size_t kSteps = 8;
  const auto expected_b = test::greedy_logits(*p.model, b.ids, kSteps);

  model::PagedBatch batch;
  batch.rows = {a.next(p, a.ids.size(), LogitsWanted::last)};
  const int32_t next_a = test::argmax(p.runner.run(batch).at(0));
  a.cached = static_cast<int32_t>(a.ids.size());
  a.ids.push_back(next_a);
  b.blocks = {a.blocks[0], a.blocks[1]};
  b.cached = 16;
  float worst = 0;
  for (size_t step = 0; step < kSteps; ++step) {
    batch.rows = {a.next(p, 1, LogitsWanted::last),
                  b.next(p, b.ids.size() - static_cast<size_t>(b.cached), LogitsWanted::last)};
    const model::Logits& logits = p.runner.run(batch);
    for (auto* row : {&a, &b}) {
      row->cached = static_cast<int32_t>(row->ids.size());
      row->ids.push_back(test::argmax(logits.at(row == &a ? 0 : 1)));
    }
    worst = std::max(worst, worst_difference(logits.at(1), expected_b[step]));
    ASSERT_EQ(b.ids.back(), test::argmax(expected_b[step])) << "step " << step;
  }
  EXPECT_LE(worst, 1e-4f);
  EXPECT_EQ(b.blocks[0], a.blocks[0]);
}

INSTANTIATE_TEST_SUITE_P(Llama, PagedModels,
                         ::testing::Values("stories260k", "llama-optimum", "llama-optimum-external"),
                         [](const auto& info) { return test::case_name(info.param); });

TEST(PagedRunner, RowsWithoutLogitsOrTokens) {
  Paged p("stories260k", 8, 16);
  Row a, b, c;
  a.ids = prompt_of(10, 1, 512);
  b.ids = prompt_of(3, 2, 512);
  model::PagedBatch batch;
  batch.rows = {a.next(p, 10, LogitsWanted::all), b.next(p, 3, LogitsWanted::none),
                c.next(p, 0, LogitsWanted::last)};
  const model::Logits& logits = p.runner.run(batch);
  EXPECT_EQ(logits.count(0), 10u);
  EXPECT_EQ(logits.count(1), 0u);
  EXPECT_EQ(logits.count(2), 0u);
  const auto alone = test::greedy_logits(*p.model, a.ids, 1);
  EXPECT_LE(worst_difference(logits.at(0, 9), alone[0]), 1e-4f);
  // A pass that wants no logits at all.
  batch.rows = {b.next(p, 3, LogitsWanted::none)};
  EXPECT_EQ(p.runner.run(batch).count(0), 0u);
}

// One paged session serves several engines, each with its own pool (the handle travels with the
// run): two threads decode on two pools through the same session at once.
TEST(PagedRunner, TwoPoolsShareOneSessionConcurrently) {
  Paged p("stories260k", 16, 8);
  model::KvBlockPool other_pool(p.model->decoder().layout, 16, 8);
  model::PagedRunner other(p.session(), p.model->decoder().layout, p.model->config().context_length,
                           other_pool);
  const std::vector<int32_t> prompt = prompt_of(21, 4, 512);
  constexpr size_t kSteps = 24;
  const auto expected = test::greedy_logits(*p.model, prompt, kSteps);
  auto decode = [&](model::PagedRunner& runner, std::vector<int32_t>& ids) {
    const std::vector<int32_t> blocks{5, 1, 3};  // the same ids in both pools: different memory
    ids = prompt;
    int32_t cached = 0;
    for (size_t step = 0; step < kSteps; ++step) {
      model::PagedBatch batch;
      batch.rows = {{.tokens = std::span<const int32_t>(ids).subspan(static_cast<size_t>(cached)),
                     .cached = cached,
                     .blocks = blocks}};
      const int32_t next = test::argmax(runner.run(batch).at(0));
      cached = static_cast<int32_t>(ids.size());
      ids.push_back(next);
    }
  };
  std::vector<int32_t> first, second;
  std::thread thread([&] { decode(other, second); });
  decode(p.runner, first);
  thread.join();
  for (size_t step = 0; step < kSteps; ++step) {
    EXPECT_EQ(first[prompt.size() + step], test::argmax(expected[step])) << step;
    EXPECT_EQ(second[prompt.size() + step], test::argmax(expected[step])) << step;
  }
}

TEST(PagedRunner, BadMetadataIsAClearErrorAndTheRunnerStaysUsable) {
  Paged p("stories260k", 8, 4);
  const std::vector<int32_t> ids = prompt_of(9, 1, 512);
  const std::vector<int32_t> one_block{0}, two_blocks{0, 1}, outside{0, 4}, negative{-1, 1};
  auto run = [&](std::span<const int32_t> tokens, int32_t cached, std::span<const int32_t> blocks) {
    return test::error_message([&] {
      model::PagedBatch batch;
      batch.rows = {{.tokens = tokens, .cached = cached, .blocks = blocks}};
      p.runner.run(batch);
    });
  };
  EXPECT_NE(run(ids, 0, outside).find("row 0: block table entry 1 is block 4, outside the pool's 4 blocks"),
            std::string::npos);
  EXPECT_NE(run(ids, 0, negative).find("block table entry 0 is block -1"), std::string::npos);
  EXPECT_NE(run(ids, 0, one_block).find("row 0: position 8 is beyond its block table (1 blocks of 8 tokens)"),
            std::string::npos);
  EXPECT_NE(run(ids, 0, std::span<const int32_t>()).find("beyond its block table"), std::string::npos);
  EXPECT_NE(run(ids, -1, two_blocks).find("row 0: negative cached length -1"), std::string::npos);
  EXPECT_NE(run(ids, 510, two_blocks).find("(519 tokens) exceeds the model's context length 512"),
            std::string::npos);
  const std::vector<int32_t> bad_id{1, 512};
  EXPECT_NE(run(bad_id, 0, two_blocks).find("token id 512 is outside the model's vocabulary"),
            std::string::npos);
  EXPECT_NE(run({}, 0, two_blocks).find("no input ids"), std::string::npos);
  EXPECT_NE(test::error_message([&] { p.runner.run({}); }).find("an empty batch"), std::string::npos);

  // Nothing was written by the failed runs that a correct one would read wrongly.
  model::PagedBatch batch;
  batch.rows = {{.tokens = ids, .cached = 0, .blocks = two_blocks}};
  const auto alone = test::greedy_logits(*p.model, ids, 1);
  EXPECT_LE(worst_difference(p.runner.run(batch).at(0), alone[0]), 1e-4f);
}

// Inputs only a caller bypassing the runner can give: the op's own checks.
TEST(PagedAttentionOp, RefusesInconsistentInputsItself) {
  Paged p("stories260k", 8, 4);
  const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  auto attempt = [&](std::vector<int32_t> starts, int64_t pool_handle) {
    std::vector<int64_t> ids{1, 5}, positions{0, 1}, wanted{1};
    std::vector<int32_t> cached{0}, tables{0};
    const std::vector<int64_t> packed{1, 2}, starts_shape{static_cast<int64_t>(starts.size())}, rows{1},
        tables_shape{1, 1}, one{1};
    std::vector<Ort::Value> values;
    values.push_back(Ort::Value::CreateTensor(memory, ids.data(), ids.size(), packed.data(), 2));
    values.push_back(Ort::Value::CreateTensor(memory, positions.data(), positions.size(), packed.data(), 2));
    values.push_back(Ort::Value::CreateTensor(memory, starts.data(), starts.size(), starts_shape.data(), 1));
    values.push_back(Ort::Value::CreateTensor(memory, cached.data(), cached.size(), rows.data(), 1));
    values.push_back(Ort::Value::CreateTensor(memory, tables.data(), tables.size(), tables_shape.data(), 2));
    values.push_back(Ort::Value::CreateTensor(memory, &pool_handle, 1, one.data(), 1));
    values.push_back(Ort::Value::CreateTensor(memory, wanted.data(), wanted.size(), one.data(), 1));
    const char* names[] = {"input_ids",
                           "position_ids",
                           graph::paged::kRowStarts,
                           graph::paged::kCachedLengths,
                           graph::paged::kBlockTables,
                           graph::paged::kKvPool,
                           graph::paged::kLogitsIndex};
    const char* outputs[] = {"logits"};
    try {
      p.session().Run(Ort::RunOptions{nullptr}, names, values.data(), values.size(), outputs, 1);
    } catch (const Ort::Exception& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  EXPECT_EQ(attempt({0, 2}, p.pool.handle()), "(no error)");
  EXPECT_NE(attempt({0, 1}, p.pool.handle()).find("row_starts must run from 0 to the 2 packed tokens"),
            std::string::npos);
  EXPECT_NE(attempt({0, 2, 1}, p.pool.handle()).find("cached_lengths has 1 values for 2 rows"),
            std::string::npos);
  int64_t stale = 0;
  {
    model::KvBlockPool gone(p.model->decoder().layout, 8, 1);
    stale = gone.handle();
  }
  EXPECT_NE(attempt({0, 2}, stale).find("no live KV block pool has handle " + std::to_string(stale)),
            std::string::npos);
}

// A model whose MatMulNBits compute with int8 activations is probed with float32 activations on both
// sides (as the attention fusion is), so its paged rewrite is kept; the 135M model's was refused at 3.4e-2.
TEST(PagedSession, Int8ActivationModelsArePaged) {
  const auto model = Model::load(model_path("llama-q4-int8"));
  const auto paged = model::make_paged_session(*model);
  EXPECT_TRUE(paged.session) << paged.note;
  EXPECT_EQ(paged.note.rfind("paged in 2 layers", 0), 0u) << paged.note;
}

TEST(PagedSession, OtherLayoutsKeepTheDensePathWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"llama-no-position-ids", "not paged: the graph has no position_ids input"},
      {"llama-optimum-fp16", "not paged: the KV cache is not float32"},
      {"llama-merged", "not paged: not a separate-KV optimum layout"},
      {"genai-gqa", "not paged: the graph has no position_ids input"},
      {"gpt2-optimum", "not paged: layer 0: "},
      {"genai-gpt2-int32", "not paged: not a separate-KV optimum layout"},
  };
  for (const auto& [name, reason] : cases) {
    const auto model = Model::load(model_path(name));
    const auto paged = model::make_paged_session(*model);
    EXPECT_FALSE(paged.session) << name;
    EXPECT_EQ(paged.note.rfind(reason, 0), 0u) << name << ": " << paged.note;
  }
}

}  // namespace
}  // namespace ortlm
