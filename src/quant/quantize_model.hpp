#pragma once
// The quantization pass over one ONNX model: every MatMul (or Gemm) whose weight is a constant
// float32 initializer, as it is or through a [1, 0] Transpose, becomes a com.microsoft MatMulNBits;
// with `embeddings`, the token-embedding Gather becomes a GatherBlockQuantized. A weight shared by
// several nodes (a tied embedding and LM head, also when the LM head is a stored transposed copy of
// the embedding) is quantized once. The output is written streamed: each new tensor goes to the
// external data file as soon as it is made, so memory stays near the size of the largest weight.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "quant/block_quant.hpp"

namespace ortlm::quant {

struct QuantizeOptions {
  BlockFormat format;
  Method method = Method::search;
  int accuracy_level = 4;   // MatMulNBits: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 compute
  bool embeddings = false;  // the token-embedding Gather -> GatherBlockQuantized
  bool lm_head = false;     // the MatMul producing the logits too (kept float32 by default)
  bool fp16 = false;        // the remaining float weights and activations float16 (q4f16)
  // MatMulNBits reading the same activation (q, k, v; gate, up) stacked into one and a Split.
  bool stack_projections = true;
  std::vector<std::string> exclude;  // glob patterns matched against node and weight names
  int threads = 0;                   // 0 = one per core
  // Called after each weight is quantized: (weights done, weights to do).
  std::function<void(size_t, size_t)> progress;
};

struct QuantizeResult {
  size_t matmuls = 0, gathers = 0;  // nodes written
  size_t stacked = 0;               // MatMuls written stacked with others that read the same input
  std::vector<std::string> notes;   // nodes left as they were, and why
  bool external_data = false;
};

// Writes `out_onnx` (and `out_onnx` + "_data" when the model is large or had external data).
// Throws ortlm::Error naming the file or node when the model cannot be quantized (already
// quantized, nothing to quantize, a malformed weight).
QuantizeResult quantize_model(const std::filesystem::path& in_onnx, const std::filesystem::path& out_onnx,
                              const QuantizeOptions& options);

}  // namespace ortlm::quant
