#pragma once
// Model chunks' tokens to range-coded bytes and back, driven by the model's next-token
// distribution over the passes of model_passes.hpp (one range coder per chunk, so that chunks
// stay independent and a damaged one is named).
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "model/decoder.hpp"
#include "zip/model_passes.hpp"

namespace ortlm::zip {

struct EncodedChunks {
  std::vector<std::string> payloads;  // one per chunk
  double ideal_bits = 0;              // sum of -log2 p(token) under the model's own probabilities
};

struct PassLayout {
  size_t rows_per_pass = 1;
  int32_t start_token = 0;
};

EncodedChunks encode_tokens(const model::Decoder& decoder, std::span<const std::vector<int32_t>> chunks,
                            const PassLayout& layout, const PassProgress& progress);

// `names(c)` names chunk c in errors (its place in the archive). Throws ortlm::Error naming the
// chunk when its bytes cannot come from the encoder.
std::vector<std::vector<int32_t>> decode_tokens(const model::Decoder& decoder,
                                                std::span<const uint32_t> tokens,
                                                std::span<const std::string_view> payloads,
                                                const PassLayout& layout,
                                                const std::function<std::string(size_t)>& names,
                                                const PassProgress& progress);

}  // namespace ortlm::zip
