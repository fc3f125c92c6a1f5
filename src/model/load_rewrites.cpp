#include "model/load_rewrites.hpp"

#include "graph/passes/int4_matmul.hpp"
#include "graph/passes/lm_head_sharing.hpp"
#include "graph/passes/silu_mul_fusion.hpp"
#include "graph/passes/skip_norm_fusion.hpp"
#include "model/fused_session.hpp"
#include "model/int4_matmul_op.hpp"
#include "model/ort_session.hpp"

namespace ortlm::model {

DecoderRewrites rewrite_decoder(const graph::OnnxGraph& graph, Ort::Session& exported, const IoLayout& layout,
                                const graph::AttentionGeometry& geometry, const SessionOptions& options,
                                uintmax_t weights) {
  DecoderRewrites result;
  // The LM head sharing the tied embedding, the residual norms, the MLP activations and the 4-bit matrix
  // products ride with the attention rewrite (one probe for all), or are verified alone; --fusion off
  // turns every load-time rewrite off.
  graph::LmHeadSharingPlan sharing;
  graph::SkipNormFusionPlan norms;
  graph::SiluMulFusionPlan activations;
  graph::Int4MatMulPlan matmuls;
  if (options.attention_fusion != AttentionFusion::never) {
    try {
      sharing = graph::plan_lm_head_sharing(graph);
    } catch (const std::exception& e) {
      sharing.why_not = e.what();
    }
    try {
      norms = graph::plan_skip_norm_fusion(graph);
    } catch (const std::exception& e) {
      norms = {};
      norms.why_not = e.what();
    }
    try {
      activations = graph::plan_silu_mul_fusion(graph);
    } catch (const std::exception& e) {
      activations = {};
      activations.why_not = e.what();
    }
    if (!int4_matmul_available()) {
      matmuls.why_not = "this CPU lacks AVX-512 VNNI, which ortlm.Int4MatMul's kernel needs";
    } else {
      try {
        matmuls = graph::plan_int4_matmuls(graph);
      } catch (const std::exception& e) {
        matmuls = {};
        matmuls.why_not = e.what();
      }
    }
  }
  const graph::GraphEdit also =
      merged(merged(merged(sharing.edit, norms.edit), activations.edit), matmuls.edit);
  bool also_applied = false;
  result.attention = "as exported (fusion off)";
  if (options.attention_fusion != AttentionFusion::never && geometry.max_positions <= 0)
    result.attention = "as exported (the context length, which sizes the RoPE tables, is unknown)";
  else if (options.attention_fusion == AttentionFusion::automatic &&
           weights >= (graph.summary().quantization.empty() ? kSmallModelBytes : kSmallQuantizedModelBytes))
    result.attention =
        "as exported (fusion is automatic below 64 MiB of weights, 256 MiB when block-quantized)";
  else if (options.attention_fusion != AttentionFusion::never) {
    auto fused = fuse_attention(graph, exported, layout, geometry, options, also);
    if (fused.session) {
      result.session = std::move(fused.session);
      also_applied = true;
    }
    result.attention = std::move(fused.note);
  }
  if (!also_applied &&
      (sharing.shares() || norms.norms > 0 || activations.activations > 0 || matmuls.matmuls > 0)) {
    std::string why_not;
    result.session = verified_session(graph, also, exported, layout, options, why_not);
    also_applied = result.session.has_value();
    if (!also_applied) sharing.why_not = norms.why_not = activations.why_not = matmuls.why_not = why_not;
  }
  result.lm_head = also_applied && sharing.shares()
                       ? "reads the tied embedding (com.microsoft FusedMatMul, transB = 1; the "
                         "transposed copy is dropped)"
                       : "as exported" + (sharing.why_not.empty() ? "" : " (" + sharing.why_not + ")");
  result.norms = also_applied && norms.norms > 0
                     ? std::to_string(norms.norms) +
                           " residual sums and RMSNorms fused (com.microsoft "
                           "SkipSimplifiedLayerNormalization)"
                     : "as exported" + (norms.why_not.empty() ? "" : " (" + norms.why_not + ")");
  result.mlp = also_applied && activations.activations > 0
                   ? std::to_string(activations.activations) + " silu(gate) * up fused (ortlm.SiluMul; " +
                         std::to_string(activations.packed) + " read the stacked gate/up projection)"
                   : "as exported" + (activations.why_not.empty() ? "" : " (" + activations.why_not + ")");
  result.matmuls = also_applied && matmuls.matmuls > 0
                       ? std::to_string(matmuls.matmuls) +
                             " 4-bit MatMulNBits read 16 columns at a time (ortlm.Int4MatMul, AVX-512 VNNI)"
                       : "as exported" + (matmuls.why_not.empty() ? "" : " (" + matmuls.why_not + ")");
  return result;
}

}  // namespace ortlm::model
