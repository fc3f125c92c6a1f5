#pragma once
// Cutting the input into independent chunks: each model chunk is text the tokenizer reproduces
// exactly (decode(encode(text)) == text, checked) in at most the model's context of tokens; every
// other byte (invalid UTF-8, text a normalizer changes, pieces too small to be worth a chunk) goes
// into raw chunks, stored as is. Cuts prefer line ends, then spaces, then character boundaries.
#include <cstdint>
#include <string_view>
#include <vector>

#include "ortlm/tokenizer.hpp"
#include "zip/container.hpp"

namespace ortlm::zip {

struct PlannedChunk {
  ChunkKind kind = ChunkKind::raw;
  size_t begin = 0;  // offset in the input
  size_t size = 0;
  std::vector<int32_t> tokens;  // model chunks
};

struct ChunkLimits {
  size_t bytes = 4096;  // a chunk's bytes at most (raw runs of adjacent pieces are merged beyond it)
  size_t tokens = 512;  // a model chunk's tokens at most (the context length)
};

// The chunks, in input order, covering every byte once.
std::vector<PlannedChunk> plan_chunks(const Tokenizer& tokenizer, std::string_view input,
                                      const ChunkLimits& limits);

}  // namespace ortlm::zip
