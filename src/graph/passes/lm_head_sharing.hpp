#pragma once
// Load-time rewrite for models whose LM head is a transposed copy of the tied token embedding (a
// stored initializer equal to E^T, as some exports write it, or a Transpose of E, which ONNX
// Runtime folds into one): the LM head MatMul becomes com.microsoft FusedMatMul(x, E, transB = 1),
// which reads the embedding itself, and the copy is dropped. model/fused_session verifies it.
#include <optional>
#include <string>

#include "graph/onnx_graph.hpp"

namespace ortlm::graph {

// The Gather that reads token embeddings: the largest 2-D float32 initializer a Gather (axis 0) reads.
std::optional<size_t> find_token_embedding(const OnnxGraph& graph);

struct LmHeadSharingPlan {
  GraphEdit edit;       // empty when nothing is shared
  std::string why_not;  // when nothing is shared
  bool shares() const { return !edit.added.empty(); }
};

LmHeadSharingPlan plan_lm_head_sharing(const OnnxGraph& graph);

}  // namespace ortlm::graph
