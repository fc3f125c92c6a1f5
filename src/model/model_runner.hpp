#pragma once
// Runs one forward pass of the decoder over a batch of rows and their KV cache: inputs are built by
// InputBuilder into preallocated buffers, bound with the KV tensors through IoBinding, and the
// requested logits rows come back as float32. One runner per engine; the model's session is shared.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <vector>

#include "model/decoder.hpp"
#include "model/forward_batch.hpp"
#include "model/input_builder.hpp"
#include "model/kv_cache.hpp"

namespace ortlm::model {

class ModelRunner {
 public:
  explicit ModelRunner(const Decoder& decoder);

  const IoLayout& layout() const { return decoder_.layout; }
  int32_t vocab_size() const { return static_cast<int32_t>(decoder_.layout.vocab_size); }
  int32_t context_length() const { return decoder_.context_length; }

  // Appends each row's tokens to its KV row and returns the logits asked for. Throws ortlm::Error
  // (the KV cache unchanged) for an id outside the vocabulary, a row that would exceed the context
  // length, or a failed run. The result stays valid until the next call.
  const Logits& run(const ForwardBatch& batch, KvCache& kv);

 private:
  const Decoder& decoder_;
  Ort::MemoryInfo memory_;
  Ort::IoBinding binding_;
  Ort::RunOptions run_options_;
  InputBuilder inputs_;
  std::vector<std::byte> logits_raw_;  // [rows, columns, vocab] of the graph's logits type
  Logits logits_;
};

}  // namespace ortlm::model
