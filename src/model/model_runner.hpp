#pragma once
// Runs the decoder graph for one sequence with a KV cache: inputs are bound to preallocated
// buffers through IoBinding, the logits of the last position are returned as float32.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <span>
#include <vector>

#include "model/io_layout.hpp"
#include "model/kv_cache.hpp"

namespace ortlm::model {

class ModelRunner {
 public:
  ModelRunner(Ort::Session session, IoLayout layout, int32_t context_length);

  const IoLayout& layout() const { return layout_; }
  int32_t vocab_size() const { return static_cast<int32_t>(layout_.vocab_size); }
  // Tokens already in the KV cache.
  int32_t position() const { return static_cast<int32_t>(kv_.length()); }

  // Starts a new sequence that may grow to `capacity` tokens (at most the context length).
  void begin(int32_t capacity);
  // Feeds `ids` after what is cached (prompts in chunks of at most `prefill_chunk` tokens) and
  // returns the logits of the last position. The span stays valid until the next call.
  std::span<const float> forward(std::span<const int32_t> ids);

  void set_prefill_chunk(int32_t tokens) { prefill_chunk_ = tokens; }

 private:
  void run_chunk(std::span<const int32_t> ids);
  void bind_inputs(std::span<const int32_t> ids);

  Ort::Session session_;
  IoLayout layout_;
  int32_t context_length_;
  int32_t prefill_chunk_ = 512;
  Ort::MemoryInfo memory_;
  Ort::IoBinding binding_;
  Ort::RunOptions run_options_;
  KvCache kv_;
  // Preallocated input buffers (as bytes, sized for the graph's dtypes).
  std::vector<int64_t> ids_buffer_, positions_buffer_, mask_buffer_;
  std::vector<int32_t> seqlens_buffer_, total_length_buffer_;
  bool use_cache_flag_ = false;
  std::vector<std::byte> logits_raw_;  // [n, vocab] of the graph's logits type
  std::vector<float> last_logits_;     // [vocab]
  int32_t last_chunk_tokens_ = 0;
};

}  // namespace ortlm::model
