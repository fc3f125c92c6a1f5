// LLMzip on ~1 MB of mixed text (prose, numbers, multilingual text, emoji, bad bytes, NUL bytes):
// hundreds of chunks over many waves of 64 rows, through the bundled model (about 6,000 tokens/s
// on one core: a minute or two each way). Labelled slow: the sanitizer run skips it.
#include <gtest/gtest.h>

#include <random>

#include "zip_inputs.hpp"

namespace ortlm {
namespace {

using namespace test::zip_inputs;

TEST(ZipLargeSlow, OneMegabyteOfMixedText) {
  std::mt19937 rng(11);
  // Prose (what the model predicts well) with every other kind in between. The numbers make up half
  // the bytes; the tiny model codes them (and byte-fallback scripts) worse than 8 bits/byte, so
  // many chunks end up raw: about 40% of the bytes go through the model, the archive is ~73%.
  const std::vector<std::string> parts = {kProse,        kProse, kProse,   kProse,
                                          kProse,        kProse, kProse,   numbers_1_to_1000(),
                                          kMultilingual, kEmoji, kInvalid, kNul};
  std::string input;
  while (input.size() < (1u << 20)) input += parts[rng() % parts.size()];
  llmzip::CompressStats stats;
  llmzip::CompressOptions options;
  options.rows_per_pass = 64;
  const std::string archive = test::codec().compress(input, options, &stats);
  EXPECT_EQ(test::codec().decompress(archive), input);
  EXPECT_GT(stats.model_chunks, 500u);
  EXPECT_GT(stats.model_bytes, input.size() / 3);
  EXPECT_GT(stats.raw_bytes, 0u);
  EXPECT_LT(stats.archive_bytes, input.size() * 8 / 10);
}

}  // namespace
}  // namespace ortlm
