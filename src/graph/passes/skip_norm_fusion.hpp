#pragma once
// Load-time rewrite of each residual sum followed by an RMSNorm, as exports write them (x = a + b;
// x * 1/sqrt(mean(x^2) + eps) * gamma, a chain of seven operators), into one com.microsoft
// SkipSimplifiedLayerNormalization that also returns the sum for the next residual. ONNX Runtime
// fuses the norm alone (SimplifiedLayerNormalization) but keeps the Add: on a small or quantized
// model every node costs a dispatch, and a decoder has two of these per layer.
#include <string>

#include "graph/onnx_graph.hpp"

namespace ortlm::graph {

struct SkipNormFusionPlan {
  GraphEdit edit;
  size_t norms = 0;     // residual sums and norms fused
  std::string why_not;  // when none: why, for `ortlm info`
};

// Finds every Add(a, b) whose float32 sum feeds an RMSNorm over the last axis with a constant
// epsilon and a constant 1-D gamma: Pow(x, 2) or Mul(x, x), ReduceMean (keepdims), Add(eps), Sqrt,
// then Div(x, sqrt) or Mul(x, Reciprocal / Div(1, sqrt)), then Mul(gamma). Norms whose intermediate
// values are read elsewhere are left as they are.
SkipNormFusionPlan plan_skip_norm_fusion(const OnnxGraph& graph);

}  // namespace ortlm::graph
