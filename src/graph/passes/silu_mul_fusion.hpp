#pragma once
// Load-time rewrite of a gated MLP's activation, silu(gate) * up, as exports write it (Sigmoid(g),
// Mul(g, sigmoid), Mul(that, up): three nodes, and a Split before them when the gate and up projections
// are one stacked matrix, as `ortlm quantize` writes them) into one ortlm.SiluMul (model/silu_mul_op),
// which reads the stacked projection's output whole when there is one. Sessions of the result need
// the "ortlm" operator domain (model/custom_ops).
#include <string>

#include "graph/onnx_graph.hpp"

namespace ortlm::graph {

struct SiluMulFusionPlan {
  GraphEdit edit;
  size_t activations = 0;  // silu(gate) * up rewritten
  size_t packed = 0;       // of which read a stacked projection's output (its Split dropped)
  std::string why_not;     // when none: why, for `ortlm info`
};

// Every Mul(Mul(g, Sigmoid(g)), u) (operands in either order) whose intermediate values have no other
// reader. Packed when g and u are the two equal halves of a Split along the last axis, in that order,
// and the Split's outputs have no other reader.
SiluMulFusionPlan plan_silu_mul_fusion(const OnnxGraph& graph);

}  // namespace ortlm::graph
