// LLMzip round trips through the bundled model: every kind of byte string comes back exactly, the
// archive does not depend on the thread count, every batch layout decodes, and the coded size
// stays within 1% of the model's ideal code length (sum of -log2 p, computed from the same logits).
#include <gtest/gtest.h>

#include <sstream>

#include "ortlm/llmzip.hpp"
#include "test_support.hpp"
#include "zip_inputs.hpp"

namespace ortlm {
namespace {

using test::codec;
constexpr size_t kMinChunkBytesForTests = llmzip::kMinChunkBytes;
using namespace test::zip_inputs;

std::string round_trip(const std::string& input, const llmzip::CompressOptions& options = {},
                       llmzip::CompressStats* stats = nullptr, int threads = 1) {
  const std::string archive = codec(threads).compress(input, options, stats);
  EXPECT_EQ(codec(threads).decompress(archive), input);
  return archive;
}

TEST(ZipRoundTrip, EveryKindOfInput) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"empty", ""},
      {"one byte", "x"},
      {"numbers", numbers_1_to_1000()},
      {"prose", kProse},
      {"multilingual", kMultilingual},
      {"emoji", kEmoji},
      {"invalid UTF-8", kInvalid},
      {"NUL bytes", kNul},
      {"leading spaces", "   three spaces first, then\n\n\n  blank lines and trailing spaces   "},
      {"special token text", "<s> and </s> and <unk> written out"},
  };
  for (const auto& [name, input] : cases) {
    SCOPED_TRACE(name);
    llmzip::CompressStats stats;
    round_trip(input, {}, &stats);
    EXPECT_EQ(stats.input_bytes, input.size());
    EXPECT_EQ(stats.model_bytes + stats.raw_bytes, input.size());
  }
}

TEST(ZipRoundTrip, TextGoesThroughTheModelAndBadBytesRaw) {
  llmzip::CompressStats stats;
  round_trip(kProse + kInvalid + kProse, {}, &stats);
  EXPECT_GE(stats.model_bytes, 2 * kProse.size());
  EXPECT_GT(stats.raw_bytes, 0u);
  EXPECT_LT(stats.raw_bytes, 200u);  // only the neighbourhood of the bad bytes
  round_trip(kProse, {}, &stats);
  EXPECT_EQ(stats.raw_bytes, 0u);
  EXPECT_LT(stats.payload_bytes, kProse.size() / 3);  // TinyStories-like text: under 2.7 bits/byte
}

TEST(ZipRoundTrip, SameArchiveForEveryThreadCountAndEachBatchDecodes) {
  // Short chunks of unequal token counts, so that rows leave the batch at different passes.
  const std::string input =
      kProse + numbers_1_to_1000().substr(0, 400) + kMultilingual.substr(0, 200) + kProse;
  for (int rows : {1, 3, 16}) {
    SCOPED_TRACE(rows);
    llmzip::CompressOptions options;
    options.chunk_bytes = kMinChunkBytesForTests;
    options.rows_per_pass = rows;
    const std::string one = codec(1).compress(input, options);
    const std::string two = codec(2).compress(input, options);
    EXPECT_EQ(one, two);
    // Decoded with the other thread count.
    EXPECT_EQ(codec(2).decompress(one), input);
    EXPECT_EQ(codec(1).decompress(two), input);
    EXPECT_EQ(llmzip::inspect(one).rows_per_pass, static_cast<uint32_t>(rows));
    EXPECT_GT(llmzip::inspect(one).model_chunks, 8u);
  }
}

TEST(ZipRoundTrip, CodedSizeWithinOnePercentOfTheIdealCodeLength) {
  std::string input;
  for (int i = 0; i < 6; ++i) input += kProse;
  input += numbers_1_to_1000();
  llmzip::CompressStats stats;
  llmzip::CompressOptions options;
  options.verify = true;
  round_trip(input, options, &stats);
  ASSERT_GT(stats.ideal_bits, 1000);
  // Each chunk's coder ends on a whole byte: at most 1 byte beyond its share, counted with the table.
  EXPECT_LE(static_cast<double>(stats.payload_bytes), stats.ideal_bits / 8 * 1.01 + stats.model_chunks);
  EXPECT_GE(static_cast<double>(stats.payload_bytes) + stats.model_chunks, stats.ideal_bits / 8);
  EXPECT_EQ(stats.archive_bytes, stats.payload_bytes + stats.raw_bytes + stats.overhead_bytes);
}

TEST(ZipRoundTrip, StreamsAndOptionRanges) {
  std::istringstream in(kProse);
  std::ostringstream archive;
  codec().compress(in, archive);
  std::istringstream archived(archive.str());
  std::ostringstream out;
  codec().decompress(archived, out);
  EXPECT_EQ(out.str(), kProse);
  llmzip::CompressOptions options;
  options.rows_per_pass = 0;
  EXPECT_NE(test::error_message([&] { codec().compress("x", options); }).find("rows_per_pass"),
            std::string::npos);
  options = {};
  options.chunk_bytes = 1;
  EXPECT_NE(test::error_message([&] { codec().compress("x", options); }).find("chunk_bytes"),
            std::string::npos);
}

}  // namespace
}  // namespace ortlm
