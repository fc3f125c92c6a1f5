#pragma once
// LLMzip: lossless compression driven by a language model's next-token probabilities (a range
// coder over the model's distribution; LLMZip, Valmeekam et al. 2023; Bellard's ts_zip). Any byte
// string round-trips: text the tokenizer reproduces exactly is coded by the model, everything else
// is stored raw. Archives record what the model's numerics depend on (model and tokenizer SHA-256,
// ONNX Runtime version, CPU features, the batch layout) and refuse a known mismatch before any
// work; every chunk carries a checksum, so a divergence or damage is an error naming the chunk,
// never wrong output. docs/llmzip.md has the format and the rules.
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>

#include "ortlm/model.hpp"

namespace ortlm::llmzip {

inline constexpr size_t kDefaultChunkBytes = 4096;
inline constexpr size_t kMinChunkBytes = 64;
inline constexpr size_t kMaxChunkBytes = size_t{1} << 20;
inline constexpr int kDefaultRowsPerPass = 16;
inline constexpr int kMaxRowsPerPass = 256;

// Tokens coded so far and in all (the model's work; raw chunks cost none).
using Progress = std::function<void(uint64_t done, uint64_t total)>;

struct CompressOptions {
  // A chunk's bytes at most (kMinChunkBytes to kMaxChunkBytes); chunks are also cut at the model's
  // context length in tokens. Each chunk restarts the model's context.
  size_t chunk_bytes = kDefaultChunkBytes;
  // Chunks coded together as the rows of one forward pass (1 to kMaxRowsPerPass; 1 for graphs that
  // cannot batch). Recorded in the archive: decompression runs the same layout.
  int rows_per_pass = kDefaultRowsPerPass;
  bool verify = false;  // decompress the archive made and compare, before returning it
  Progress progress;
};

struct DecompressOptions {
  // Try even when the archive was made with another ONNX Runtime version, provider or CPU (whose
  // floats may differ): the chunk checksums then decide. Model and tokenizer must always match.
  bool force = false;
  Progress progress;
};

struct CompressStats {
  uint64_t input_bytes = 0;
  uint64_t archive_bytes = 0;
  uint64_t overhead_bytes = 0;  // header and chunk table
  uint64_t model_chunks = 0, raw_chunks = 0;
  uint64_t model_bytes = 0;    // original bytes in model chunks
  uint64_t raw_bytes = 0;      // original bytes stored raw
  uint64_t tokens = 0;         // tokens coded by the model
  uint64_t payload_bytes = 0;  // range-coded bytes of the model chunks
  double ideal_bits = 0;       // sum over the tokens of -log2 p (the model's own probabilities)
  double seconds = 0;          // compressing (and verifying, when asked)
};

// What an archive's header and table say (no model needed).
struct ArchiveInfo {
  std::string model_name, model_sha256, tokenizer_sha256;  // hex digests
  std::string ort_version, attention, provider, cpu;
  uint32_t rows_per_pass = 0;
  uint64_t original_bytes = 0;
  uint64_t chunks = 0, model_chunks = 0, raw_chunks = 0, tokens = 0;
  uint64_t overhead_bytes = 0;  // header and chunk table
};

// Compressors and decompressors for one model. Building one hashes the model's files (once).
// Thread-safe: each call runs its own forward passes over the shared model.
class Codec {
 public:
  // `provider` names the execution provider the model was loaded with (SessionOptions::provider),
  // which the archive records. Throws ortlm::Error when the model cannot drive LLMzip (no
  // tokenizer, no BOS/EOS, unknown context length).
  explicit Codec(std::shared_ptr<const Model> model, const std::string& provider = "cpu");
  ~Codec();

  std::string compress(std::string_view input, const CompressOptions& options = {},
                       CompressStats* stats = nullptr) const;
  // Throws ortlm::Error naming the mismatch (model, tokenizer, numerics) before any work, or the
  // damaged field or chunk; never returns bytes other than the original.
  std::string decompress(std::string_view archive, const DecompressOptions& options = {}) const;

  // Streams: the whole input is read first (the chunk table precedes the payloads), then the
  // result is written. Throws ortlm::Error when reading or writing fails.
  void compress(std::istream& in, std::ostream& out, const CompressOptions& options = {},
                CompressStats* stats = nullptr) const;
  void decompress(std::istream& in, std::ostream& out, const DecompressOptions& options = {}) const;

 private:
  struct Impl;
  std::unique_ptr<const Impl> impl_;
};

// Reads an archive's header and table (checked as decompress checks them).
ArchiveInfo inspect(std::string_view archive);

// The same input through the usual compressors, at their strongest common settings (sizes in
// bytes): gzip -9 (zlib, gzip framing), xz -9 (liblzma, CRC64), zstd -19 (libzstd).
struct BaselineSizes {
  uint64_t gzip = 0, xz = 0, zstd = 0;
};
BaselineSizes baseline_sizes(std::string_view input);

}  // namespace ortlm::llmzip
