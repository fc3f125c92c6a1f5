#pragma once
// The paged rewrite (graph/passes/paged_attention) applied to a loaded model, kept only when it
// computes what the exported graph computes: a probe batch of rows with different cached and new
// lengths runs packed through the rewritten session (model/paged_runner, over a small block pool
// with scattered block tables) and row by row through the exported session over the same past; every
// logit and every key and value written into the pool must agree within float32 rounding. Anything
// else leaves the model on the dense path, with the reason.
#include <onnxruntime_cxx_api.h>

#include <optional>
#include <string>

#include "graph/onnx_graph.hpp"
#include "graph/passes/paged_attention.hpp"
#include "model/io_layout.hpp"
#include "ortlm/model.hpp"

namespace ortlm::model {

struct PagedSession {
  std::optional<Ort::Session> session;  // the packed graph's session, when it is used
  std::string note;                     // what was done or why not, for `ortlm info`
};

// `graph` is the model `exported` was created from; `context_length` bounds the positions (and
// sizes the rotary tables, as geometry.max_positions).
PagedSession make_paged_session(const graph::OnnxGraph& graph, Ort::Session& exported, const IoLayout& layout,
                                const graph::AttentionGeometry& geometry, const SessionOptions& options);

// The same for a loaded model (its graph decoded again), with the attention geometry and session
// options (threads resolved) it was loaded with; `exported` is the model's own session as loaded.
PagedSession make_paged_session(const Model& model);

// The rewrite for a model with this layout: refused with the reason unless the KV cache and logits
// are float32, separate per layer, with attention in standard operators (the optimum layout).
graph::PagedAttentionPlan plan_paged(const graph::OnnxGraph& graph, const IoLayout& layout,
                                     const graph::AttentionGeometry& geometry, int64_t onnx_opset);

// The probe's verdict: the largest differences between the two sessions, relative to the values'
// magnitude (0 = identical), of the logits and of the keys and values the paged run wrote.
struct PagedProbeResult {
  double logits = 0, kv = 0;
};
PagedProbeResult paged_probe_difference(Ort::Session& exported, Ort::Session& paged, const IoLayout& layout,
                                        int32_t context_length);

}  // namespace ortlm::model
