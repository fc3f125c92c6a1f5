#pragma once
// Load-time rewrite of each decoder layer's attention (Llama family, optimum layout) into fewer,
// larger operators. On small models a decode step is dominated by ONNX Runtime dispatching a few
// hundred tiny nodes, about half of them rotary embedding and repeat_kv plumbing; the rewrite gives
// each layer two com.microsoft RotaryEmbedding nodes and a grouped attention that reads the KV cache
// without repeating it. The graph's inputs and outputs stay as they are, so the rest of ortlm does
// not know whether a model was rewritten; model/fused_session verifies the result numerically.
#include <optional>
#include <string>
#include <vector>

#include "graph/onnx_graph.hpp"

namespace ortlm::graph {

// One decoder layer's KV cache values, as the graph names them: past inputs and present outputs,
// [batch, kv_heads, seq, head_size].
struct KvTensors {
  std::string past_key, past_value, present_key, present_value;
};

// The graph's inputs and outputs the rewrite reads: a float32 KV cache per layer (attention in
// standard operators) and the position ids, when the graph has them.
struct AttentionIo {
  std::vector<KvTensors> kv;  // one per layer
  std::optional<std::string> position_ids;
};

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
AttentionFusionPlan plan_attention_fusion(const OnnxGraph& graph, const AttentionIo& io,
                                          const AttentionGeometry& geometry, int64_t onnx_opset);

}  // namespace ortlm::graph
