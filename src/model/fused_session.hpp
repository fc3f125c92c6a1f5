#pragma once
// Applies the attention rewrite to a loaded model and keeps it only when it computes what the
// original graph computes: both sessions run the same probe (a prompt after a random past) and
// every output must agree within float32 rounding. Anything else leaves the original session.
#include <onnxruntime_cxx_api.h>

#include <optional>
#include <string>

#include "graph/passes/attention_fusion.hpp"
#include "model/io_layout.hpp"
#include "ortlm/model.hpp"

namespace ortlm::model {

struct FusedSession {
  std::optional<Ort::Session> session;  // the rewritten model's session, when it is used
  std::string note;                     // what was done or why not, for `ortlm info`
};

// `graph` is the model `original` was created from; `also` is another rewrite applied with the
// attention rewrite (and verified with it), e.g. the LM head sharing.
FusedSession fuse_attention(const graph::OnnxGraph& graph, Ort::Session& original, const IoLayout& layout,
                            const graph::AttentionGeometry& geometry, const SessionOptions& options,
                            const graph::GraphEdit& also = {});

// A session of `graph` with `edit` applied, if it reproduces `original`'s outputs on the probe;
// else nullopt and `why_not` says why.
std::optional<Ort::Session> verified_session(const graph::OnnxGraph& graph, const graph::GraphEdit& edit,
                                             Ort::Session& original, const IoLayout& layout,
                                             const SessionOptions& options, std::string& why_not);

// The attention rewrite for a model with this layout: refused with the reason unless the KV cache
// is float32, separate per layer, with attention in standard operators (the optimum layout).
graph::AttentionFusionPlan plan_fusion(const graph::OnnxGraph& graph, const IoLayout& layout,
                                       const graph::AttentionGeometry& geometry, int64_t onnx_opset);

// MatMulNBits computing with int8 activations (accuracy_level > 1) round each activation to 8 bits, so
// a rewrite's float32 rounding (~1e-7) can flip a level and, on deep models, move the outputs by ~1e-2:
// a probe could not tell a right rewrite from a wrong one. Probes therefore run such graphs with those
// nodes at accuracy_level 1 (float32 activations, the same weights): the edit that does so, for the
// nodes `edit` keeps (empty when there are none).
graph::GraphEdit float_activation_matmuls(const graph::OnnxGraph& graph, const graph::GraphEdit& edit = {});
// The same for one node (a node an edit adds): true when `node` was such a MatMulNBits, or an
// ortlm.Int4MatMul, and now computes in float32.
bool use_float_activations(graph::GraphNode& node);
// `edit` with every int8-activation matmul of the graph it makes (the graph's own it keeps and those it
// adds) computing in float32: the probe's candidate when float_activation_matmuls is not empty.
graph::GraphEdit with_float_activations(const graph::OnnxGraph& graph, const graph::GraphEdit& edit);
// `edit` with `also`'s changes added.
graph::GraphEdit merged(graph::GraphEdit edit, const graph::GraphEdit& also);

// The largest difference between the two sessions' outputs on the probe, relative to the
// outputs' magnitude (0 = identical); throws ortlm::Error when an output differs in shape.
double probe_difference(Ort::Session& a, Ort::Session& b, const IoLayout& layout);

}  // namespace ortlm::model
