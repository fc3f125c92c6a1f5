// LLMzip archives that cannot be decompressed as they are: another model or tokenizer (refused
// before any forward pass, naming the mismatch), damaged payloads (an error naming the chunk),
// damaged or truncated headers and tables, and numerics recorded from another machine.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "util/file.hpp"
#include "zip/container.hpp"
#include "zip_inputs.hpp"

namespace ortlm {
namespace {

namespace fs = std::filesystem;
using test::codec;
using test::error_message;
using namespace test::zip_inputs;

const std::string& prose_archive() {
  static const std::string archive = [] {
    llmzip::CompressOptions options;
    options.chunk_bytes = 128;  // several chunks
    return codec().compress(kProse + kInvalid + kProse, options);
  }();
  return archive;
}

// Decompresses with a progress callback that records whether any forward pass ran.
std::string decompress_error(const llmzip::Codec& c, const std::string& archive, bool& passes_ran) {
  passes_ran = false;
  llmzip::DecompressOptions options;
  options.progress = [&](uint64_t, uint64_t) { passes_ran = true; };
  return error_message([&] { c.decompress(archive, options); });
}

TEST(ZipArchive, AnotherModelIsRefusedBeforeAnyWork) {
  // Random weights, the same tokenizer as the bundled model.
  const llmzip::Codec other(Model::load(test::test_models() / "llama-optimum"));
  bool ran = true;
  const std::string message = decompress_error(other, prose_archive(), ran);
  EXPECT_NE(message.find("another model"), std::string::npos) << message;
  EXPECT_NE(message.find("stories260k"), std::string::npos) << message;
  EXPECT_FALSE(ran);
}

TEST(ZipArchive, AnotherTokenizerIsRefusedBeforeAnyWork) {
  // The bundled model with a tokenizer.json that differs by one byte (same vocabulary).
  const fs::path folder = fs::temp_directory_path() / ("ortlm_zip_tokenizer_" + std::to_string(::getpid()));
  fs::remove_all(folder);
  fs::copy(test::bundled_model(), folder, fs::copy_options::recursive);
  std::ofstream(folder / "tokenizer.json", std::ios::app) << "\n";
  const llmzip::Codec other(Model::load(folder));
  bool ran = true;
  const std::string message = decompress_error(other, prose_archive(), ran);
  fs::remove_all(folder);
  EXPECT_NE(message.find("another tokenizer"), std::string::npos) << message;
  EXPECT_FALSE(ran);
}

TEST(ZipArchive, ADamagedChunkIsNamed) {
  const zip::Archive parsed = zip::read_archive(prose_archive());
  const auto& chunks = parsed.header.chunks;
  ASSERT_GT(chunks.size(), 3u);
  for (size_t i : {size_t{1}, chunks.size() - 1}) {
    std::string damaged = prose_archive();
    const size_t offset = static_cast<size_t>(parsed.payloads[i].data() - prose_archive().data());
    damaged[offset + parsed.payloads[i].size() / 2] ^= 0x10;
    const std::string message = error_message([&] { codec().decompress(damaged); });
    EXPECT_NE(message.find("chunk " + std::to_string(i) + " of " + std::to_string(chunks.size())),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("damaged"), std::string::npos) << message;
  }
  // A raw chunk is checked before the model runs.
  size_t raw = chunks.size();
  for (size_t i = 0; i < chunks.size(); ++i)
    if (chunks[i].kind == zip::ChunkKind::raw) raw = i;
  ASSERT_LT(raw, chunks.size());
  std::string damaged = prose_archive();
  damaged[static_cast<size_t>(parsed.payloads[raw].data() - prose_archive().data())] ^= 1;
  bool ran = true;
  const std::string message = decompress_error(codec(), damaged, ran);
  EXPECT_NE(message.find("chunk " + std::to_string(raw) + " of"), std::string::npos) << message;
  EXPECT_NE(message.find("stored raw"), std::string::npos) << message;
  EXPECT_FALSE(ran);
}

TEST(ZipArchive, DamagedHeaderTableAndTruncation) {
  const std::string& archive = prose_archive();
  const zip::Archive parsed = zip::read_archive(archive);
  std::string bad = archive;
  bad[20] ^= 1;  // inside the model's SHA-256
  EXPECT_NE(error_message([&] { codec().decompress(bad); }).find("header"), std::string::npos);
  bad = archive;
  bad[parsed.overhead_bytes - 10] ^= 1;  // inside the chunk table
  EXPECT_NE(error_message([&] { codec().decompress(bad); }).find("chunk table"), std::string::npos);
  for (size_t size : {size_t{0}, size_t{5}, size_t{40}, parsed.overhead_bytes - 1, archive.size() - 1}) {
    const std::string message = error_message([&] { codec().decompress(archive.substr(0, size)); });
    EXPECT_TRUE(message.find("truncated") != std::string::npos ||
                message.find("not an LLMzip") != std::string::npos)
        << size << ": " << message;
  }
  EXPECT_NE(error_message([&] { codec().decompress(archive + "x"); }).find("after the last chunk"),
            std::string::npos);
  EXPECT_NE(error_message([&] { codec().decompress("ORTLMZIP\x02"); }).find("truncated"), std::string::npos);
  bad = archive;
  bad[8] = 2;  // format version 2
  EXPECT_NE(error_message([&] { codec().decompress(bad); }).find("format version 2"), std::string::npos);
}

// An archive whose header says another machine made it: rewritten with the container's writer.
std::string with_numerics(const std::function<void(zip::Numerics&)>& change) {
  zip::Archive parsed = zip::read_archive(prose_archive());
  change(parsed.header.numerics);
  std::vector<std::string> payloads(parsed.payloads.begin(), parsed.payloads.end());
  return zip::write_archive(parsed.header, payloads);
}

TEST(ZipArchive, NumericsFromAnotherMachine) {
  const std::string input = kProse + kInvalid + kProse;
  EXPECT_EQ(codec().decompress(with_numerics([](zip::Numerics&) {})),
            input);  // the rewrite itself is faithful
  const std::string cpu = with_numerics([](zip::Numerics& n) { n.cpu = "x86_64 avx avx2 fma"; });
  const std::string message = error_message([&] { codec().decompress(cpu); });
  EXPECT_NE(message.find("another CPU"), std::string::npos) << message;
  EXPECT_NE(message.find("x86_64 avx avx2 fma"), std::string::npos) << message;
  // --force tries anyway: the same machine really, so the chunk checksums pass.
  llmzip::DecompressOptions force;
  force.force = true;
  EXPECT_EQ(codec().decompress(cpu, force), input);
  const std::string ort = with_numerics([](zip::Numerics& n) { n.ort_version = "1.0.0"; });
  EXPECT_NE(error_message([&] { codec().decompress(ort); }).find("ONNX Runtime 1.0.0"), std::string::npos);
  const std::string fused = with_numerics([](zip::Numerics& n) { n.attention = "as exported"; });
  EXPECT_NE(error_message([&] { codec().decompress(fused, force); }).find("another attention graph"),
            std::string::npos);
}

TEST(ZipArchive, InspectReadsTheHeader) {
  const auto info = llmzip::inspect(prose_archive());
  EXPECT_EQ(info.model_name, "stories260k");
  EXPECT_EQ(info.original_bytes, 2 * kProse.size() + kInvalid.size());
  EXPECT_EQ(info.model_chunks + info.raw_chunks, info.chunks);
  EXPECT_GT(info.raw_chunks, 0u);
  EXPECT_EQ(info.rows_per_pass, static_cast<uint32_t>(llmzip::kDefaultRowsPerPass));
  EXPECT_EQ(info.model_sha256.size(), 64u);
}

}  // namespace
}  // namespace ortlm
