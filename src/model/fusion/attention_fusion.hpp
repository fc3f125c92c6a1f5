#pragma once
// Load-time rewrite of each decoder layer's attention (Llama family, optimum layout) into fewer,
// larger operators. On small models a decode step is dominated by ONNX Runtime dispatching a few
// hundred tiny nodes, about half of them rotary embedding and repeat_kv plumbing; the rewrite gives
// each layer two com.microsoft RotaryEmbedding nodes and a grouped attention that reads the KV cache
// without repeating it. The graph's inputs and outputs stay as they are, so the rest of ortlm does
// not know whether a model was rewritten; model/fusion/fusion_check verifies the result numerically.
#include <string>

#include "model/graph/onnx_graph.hpp"
#include "model/io_layout.hpp"

namespace ortlm::model {

struct AttentionGeometry {
  int64_t num_heads = 0, kv_heads = 0, head_size = 0;
  int64_t max_positions = 0;  // rows of the rotary tables
  double rope_theta = 10000.0;
  bool plain_rope = true;  // no rope_scaling, full rotary dimension (what the rewrite implements)
};

struct AttentionFusionPlan {
  GraphEdit edit;
  size_t layers = 0;    // layers rewritten (all of them, or none)
  std::string why_not;  // when none: what did not match, for `ortlm info`
};

// Finds every layer's attention pattern; all layers must match, else nothing is changed.
// `onnx_opset` is the model's ai.onnx opset (the new nodes use the opset-13 forms).
AttentionFusionPlan plan_attention_fusion(const OnnxGraph& graph, const IoLayout& layout,
                                          const AttentionGeometry& geometry, int64_t onnx_opset);

}  // namespace ortlm::model
