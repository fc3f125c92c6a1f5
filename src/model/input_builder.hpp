#pragma once
// Builds a forward pass's graph inputs other than the KV cache: input_ids [B, T], attention_mask
// [B, width + T], position_ids [B, T] (left padding: each row's new tokens take its last columns),
// the merged decoder's use_cache_branch, and GroupQueryAttention's seqlens_k / total_sequence_length.
// The model runner binds them; the attention rewrite's probe runs them, so both feed a graph alike.
#include <onnxruntime_cxx_api.h>

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "model/forward_batch.hpp"
#include "model/io_layout.hpp"
#include "model/kv_cache.hpp"

namespace ortlm::model {

class InputBuilder {
 public:
  explicit InputBuilder(const IoLayout& layout);
  // Fills the inputs for `batch` over the rows `kv` holds (batch.rows.size() must equal kv.rows()).
  // Throws ortlm::Error for an id outside the vocabulary or a batch without tokens. Returns the new
  // columns T. Nothing allocates once the buffers have grown to the largest batch.
  int64_t build(const ForwardBatch& batch, const KvCache& kv, const Ort::MemoryInfo& memory);

  // The inputs of the last build(), valid until the next one.
  std::span<const char* const> names() const { return {names_.data(), count_}; }
  std::span<Ort::Value> values() { return {values_.data(), count_}; }
  // Real new tokens per row in the last build().
  std::span<const int32_t> new_tokens() const { return new_tokens_; }

 private:
  void add(const TensorSpec& spec, void* data, std::span<const int64_t> shape, const Ort::MemoryInfo& memory);

  const IoLayout& layout_;
  static constexpr size_t kMaxInputs = 6;
  std::array<const char*, kMaxInputs> names_{};
  std::array<Ort::Value, kMaxInputs> values_{Ort::Value(nullptr), Ort::Value(nullptr), Ort::Value(nullptr),
                                             Ort::Value(nullptr), Ort::Value(nullptr), Ort::Value(nullptr)};
  size_t count_ = 0;
  std::vector<int32_t> new_tokens_;
  // Integer buffers hold int64 or int32 values, as the graph's input type is.
  std::vector<int64_t> ids_, mask_, positions_;
  std::vector<int32_t> seqlens_, total_length_;
  bool use_cache_flag_ = false;
};

}  // namespace ortlm::model
