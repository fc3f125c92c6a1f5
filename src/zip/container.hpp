#pragma once
// The LLMzip archive format (docs/llmzip.md has the byte layout): a header (magic, version, flags,
// the numerics the archive depends on, the coder's parameters, the original's length and
// checksum), a table of independent chunks (kind, lengths, checksum), and the chunks' payloads.
// The header and the table each end with their own checksum, so a damaged archive is refused
// before any model runs, and a damaged payload is named by its chunk.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "zip/numerics.hpp"

namespace ortlm::zip {

inline constexpr char kMagic[8] = {'O', 'R', 'T', 'L', 'M', 'Z', 'I', 'P'};
inline constexpr uint16_t kFormatVersion = 1;

enum class ChunkKind : uint8_t { raw = 0, model = 1 };

struct ChunkEntry {
  ChunkKind kind = ChunkKind::raw;
  uint64_t bytes = 0;          // original bytes (>= 1)
  uint32_t tokens = 0;         // model chunks: tokens coded (1 to the context length)
  uint64_t payload_bytes = 0;  // model chunks: range coder bytes; raw chunks: = bytes
  uint32_t checksum = 0;       // checksum32 of the original bytes
};

struct ArchiveHeader {
  Numerics numerics;
  uint32_t rows_per_pass = 1;  // chunks coded together, as rows of one forward pass
  uint32_t total_bits = 0;     // frequencies sum to 2^total_bits
  uint64_t original_bytes = 0;
  uint64_t original_checksum = 0;  // checksum64 of the whole original
  std::vector<ChunkEntry> chunks;
};

// The whole archive: header, table, then `payloads` (one per chunk, in order).
std::string write_archive(const ArchiveHeader& header, std::span<const std::string> payloads);

struct Archive {
  ArchiveHeader header;
  std::vector<std::string_view> payloads;  // into the bytes read
  size_t header_bytes = 0;                 // the header, its checksum included
  size_t overhead_bytes = 0;               // header + table, both checksums included
};

// Parses and checks an archive (magic, version, flags, checksums of header and table, every
// length against the others and against the bytes present). Throws ortlm::Error naming the field,
// the chunk or the byte offset at fault. The views point into `bytes`.
Archive read_archive(std::string_view bytes);

}  // namespace ortlm::zip
