#pragma once
// `ortlm quantize --fp16` (q4f16, as onnx-community names it): after the weights are quantized, every
// float32 tensor left becomes float16 — initializers, Constants, the targets of Casts, ConstantOfShape
// values — and so does every float input and output (the KV cache and the logits), so the activations
// flow in float16 as in float16 exports. ONNX Runtime's CPU provider runs MatMulNBits and
// SimplifiedLayerNormalization in float16 itself and the rest in float32 behind Casts it inserts.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "graph/onnx_graph.hpp"

namespace ortlm::quant {

// IEEE half bits of `x`, rounded to nearest even; values beyond float16's range become +-65504 (not
// infinity: masks add the float32 minimum, which must stay finite and negative).
uint16_t to_float16(float x);
// `n` floats as float16 bytes.
std::string float16_bytes(const float* values, size_t n);

// Adds an initializer (name, dims, TensorProto.DataType, raw bytes) to the output.
using AddInitializer =
    std::function<void(const std::string&, const std::vector<int64_t>&, uint64_t, std::string_view)>;

// Extends `edit` (the quantization's, whose new nodes already read float16 scales) so that `graph`
// computes in float16. Throws ortlm::Error naming the node when one makes float32 in a way this does
// not convert (random or EyeLike nodes with a dtype).
void convert_to_float16(const graph::OnnxGraph& graph, graph::GraphEdit& edit, const AddInitializer& add);

}  // namespace ortlm::quant
