#pragma once
// The dense session's load-time rewrites, as one step: the attention rewrite (graph/passes/
// attention_fusion) with the LM head sharing, the residual norms, the MLP activations and the 4-bit
// matrix products riding in its probe, or those four verified alone when the attention is not rewritten
// (model/fused_session). Model runs it when its dense decoder is first asked for, so engines that only run
// the paged session never pay for it.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <optional>
#include <string>

#include "graph/onnx_graph.hpp"
#include "graph/passes/attention_fusion.hpp"
#include "model/io_layout.hpp"
#include "ortlm/model.hpp"

namespace ortlm::model {

struct DecoderRewrites {
  std::optional<Ort::Session> session;  // the rewritten graph's session, when any rewrite is kept
  // What each did, or why not, for `ortlm info`.
  std::string attention, lm_head, norms, mlp, matmuls;
};

// `exported` is `graph`'s session, made with `options` (threads resolved); `weights` its weight
// bytes (the automatic mode's size limits); `geometry.max_positions` the context length (0: unknown).
DecoderRewrites rewrite_decoder(const graph::OnnxGraph& graph, Ort::Session& exported, const IoLayout& layout,
                                const graph::AttentionGeometry& geometry, const SessionOptions& options,
                                uintmax_t weights);

}  // namespace ortlm::model
