// libFuzzer target: damaged LLMzip archives fed to the decoder (with the bundled model). Every
// input must decompress to the original (when undamaged) or fail with ortlm::Error: never a
// crash, a hang, runaway memory or other bytes. Two kinds of input, by the first byte:
//   even: the rest is an archive, as is (the header and table checksums stop most mutations);
//   odd:  the rest edits a valid archive made at start-up (pairs of a 16-bit offset and a byte to
//         XOR there, then a length to truncate to), whose header and table checksums are then
//         recomputed so that the edits reach the table's fields and the coded payloads.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "ortlm/error.hpp"
#include "ortlm/llmzip.hpp"
#include "zip/checksum.hpp"
#include "zip/container.hpp"

namespace {

const char kOriginal[] =
    "Once upon a time, there was a little cat. \xff\xfe The cat liked to sleep in the sun.\n"
    "One day, a bird came. 1\n2\n3\n \xf0\x9f\x98\x80 They played together. The end.";

struct Fixture {
  std::unique_ptr<ortlm::llmzip::Codec> codec;
  std::string archive;
  size_t header_end = 0, table_end = 0;  // where the two checksums start
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture f;
    f.codec = std::make_unique<ortlm::llmzip::Codec>(
        ortlm::Model::load(std::string(ORTLM_SOURCE_DIR) + "/models/stories260k"));
    ortlm::llmzip::CompressOptions options;
    options.chunk_bytes = 64;
    options.rows_per_pass = 2;
    f.archive = f.codec->compress(std::string_view(kOriginal, sizeof kOriginal - 1), options);
    const auto parsed = ortlm::zip::read_archive(f.archive);
    f.header_end = parsed.header_bytes - 8;
    f.table_end = parsed.overhead_bytes - 8;
    return f;
  }();
  return f;
}

void put_checksum(std::string& archive, size_t at, uint64_t value) {
  for (int i = 0; i < 8 && at + i < archive.size(); ++i)
    archive[at + i] = static_cast<char>(value >> (8 * i));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Fixture& f = fixture();
  std::string archive;
  if ((data[0] & 1) == 0) {
    archive.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  } else {
    archive = f.archive;
    size_t i = 1;
    for (; i + 3 <= size; i += 3) {
      const size_t offset = (size_t{data[i]} | size_t{data[i + 1]} << 8) % archive.size();
      archive[offset] = static_cast<char>(archive[offset] ^ data[i + 2]);
    }
    if (i < size) archive.resize(std::min(archive.size(), size_t{data[i]} * 4));
    const std::string_view view(archive);
    if (f.table_end + 8 <= archive.size()) {
      put_checksum(archive, f.header_end, ortlm::zip::checksum64(view.substr(0, f.header_end)));
      put_checksum(archive, f.table_end,
                   ortlm::zip::checksum64(view.substr(f.header_end + 8, f.table_end - f.header_end - 8)));
    }
  }
  try {
    // The model's work is bounded by the tokens the table claims: skip the slow extremes.
    if (ortlm::llmzip::inspect(archive).tokens > 4096) return 0;
    const std::string out = f.codec->decompress(archive);
    // Success means every checksum matched: an edited archive gives its original or nothing.
    if ((data[0] & 1) == 1 && out != std::string_view(kOriginal, sizeof kOriginal - 1)) __builtin_trap();
    if (out.size() != ortlm::llmzip::inspect(archive).original_bytes) __builtin_trap();
  } catch (const ortlm::Error&) {
  }
  return 0;
}
