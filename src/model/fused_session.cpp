#include "model/fused_session.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/custom_ops.hpp"
#include "model/input_builder.hpp"
#include "model/ort_session.hpp"
#include "model/padded_kv_cache.hpp"
#include "ortlm/error.hpp"

namespace ortlm::model {
namespace {

// Two rows over a past of kProbePast columns, built by the runner's own InputBuilder: row 0 has a full
// past and kProbeTokens new tokens; row 1 is left-padded (one past column masked out, one token
// fewer). Exercises the cache, RoPE positions past zero, the causal mask and padding in a batch.
constexpr int64_t kProbePast = 3, kProbeTokens = 4;
// float32 outputs of the two graphs differ by operator rounding only (~1e-6 relative).
constexpr double kTolerance = 1e-4;

struct ProbeInputs {
  std::vector<const char*> names;
  std::vector<Ort::Value> values;
  std::vector<std::vector<float>> past;  // storage of the past tensors
};

ProbeInputs probe_inputs(const IoLayout& layout, const Ort::MemoryInfo& memory, PaddedKvCache& kv,
                         InputBuilder& builder) {
  constexpr size_t kRows = 2;
  kv.reset(kRows, kProbePast + kProbeTokens);
  const int32_t past_tokens[kRows] = {kProbePast, kProbePast - 1};
  kv.commit(past_tokens, kProbePast);
  std::vector<int32_t> ids;
  for (int64_t i = 0; i < kProbeTokens; ++i)
    ids.push_back(static_cast<int32_t>((i * 7 + 3) % layout.vocab_size));
  ForwardBatch batch;
  batch.rows = {{.tokens = ids}, {.tokens = std::span<const int32_t>(ids).subspan(1)}};
  builder.build(batch, kv, memory);
  ProbeInputs in;
  for (size_t i = 0; i < builder.names().size(); ++i) {
    in.names.push_back(builder.names()[i]);
    in.values.push_back(std::move(builder.values()[i]));
  }
  uint32_t state = 12345;  // a fixed pseudo-random past in [-1, 1)
  const std::vector<int64_t> past_shape{kRows, layout.kv_heads, kProbePast, layout.head_size};
  for (const auto& tensors : layout.kv) {
    for (const auto* name : {&tensors.past_key, &tensors.past_value}) {
      auto& past =
          in.past.emplace_back(static_cast<size_t>(kRows * layout.kv_heads * kProbePast * layout.head_size));
      for (auto& x : past) {
        state = state * 1664525u + 1013904223u;
        x = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
      }
      in.names.push_back(name->c_str());
      in.values.push_back(
          Ort::Value::CreateTensor(memory, past.data(), past.size(), past_shape.data(), past_shape.size()));
    }
  }
  return in;
}

std::vector<Ort::Value> run(Ort::Session& session, ProbeInputs& in, const std::vector<const char*>& outputs) {
  return session.Run(Ort::RunOptions{nullptr}, in.names.data(), in.values.data(), in.values.size(),
                     outputs.data(), outputs.size());
}

}  // namespace

bool use_float_activations(graph::GraphNode& node) {
  const auto* level = node.attribute("accuracy_level");
  if (!(node.is("MatMulNBits", "com.microsoft") || node.is("Int4MatMul", "ortlm")) || !level || !level->i ||
      *level->i <= 1)
    return false;
  node.encoded = {};
  for (auto& a : node.attributes)
    if (a.name == "accuracy_level") a.i = 1;
  return true;
}

graph::GraphEdit float_activation_matmuls(const graph::OnnxGraph& graph, const graph::GraphEdit& edit) {
  graph::GraphEdit exact;
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    graph::GraphNode copy = graph.nodes()[i];
    if (edit.removed.count(i) || !use_float_activations(copy)) continue;
    exact.removed.insert(i);
    exact.added.push_back(std::move(copy));
  }
  return exact;
}

graph::GraphEdit with_float_activations(const graph::OnnxGraph& graph, const graph::GraphEdit& edit) {
  graph::GraphEdit exact = merged(edit, float_activation_matmuls(graph, edit));
  for (auto& node : exact.added) use_float_activations(node);
  return exact;
}

graph::GraphEdit merged(graph::GraphEdit edit, const graph::GraphEdit& also) {
  edit.removed.insert(also.removed.begin(), also.removed.end());
  edit.added.insert(edit.added.end(), also.added.begin(), also.added.end());
  edit.added_initializers.insert(also.added_initializers.begin(), also.added_initializers.end());
  edit.removed_initializers.insert(also.removed_initializers.begin(), also.removed_initializers.end());
  edit.opsets.insert(also.opsets.begin(), also.opsets.end());
  edit.removed_inputs.insert(also.removed_inputs.begin(), also.removed_inputs.end());
  edit.removed_outputs.insert(also.removed_outputs.begin(), also.removed_outputs.end());
  edit.added_inputs.insert(edit.added_inputs.end(), also.added_inputs.begin(), also.added_inputs.end());
  edit.added_outputs.insert(edit.added_outputs.end(), also.added_outputs.begin(), also.added_outputs.end());
  edit.held.insert(edit.held.end(), also.held.begin(), also.held.end());
  return edit;
}

graph::AttentionFusionPlan plan_fusion(const graph::OnnxGraph& graph, const IoLayout& layout,
                                       const graph::AttentionGeometry& geometry, int64_t onnx_opset) {
  graph::AttentionFusionPlan refused;
  if (layout.kv_layout != KvLayout::separate || layout.kv.empty() || layout.seqlens_k ||
      layout.use_cache_branch)
    refused.why_not = "not a separate-KV optimum layout with attention in standard operators";
  else if (layout.kv_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    refused.why_not = "the KV cache is not float32";
  if (!refused.why_not.empty()) return refused;
  const graph::AttentionIo io{.kv = layout.kv,
                              .position_ids = layout.position_ids
                                                  ? std::optional<std::string>(layout.position_ids->name)
                                                  : std::nullopt};
  return graph::plan_attention_fusion(graph, io, geometry, onnx_opset);
}

double probe_difference(Ort::Session& a, Ort::Session& b, const IoLayout& layout) {
  const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  PaddedKvCache kv(layout);
  InputBuilder builder(layout);
  auto in = probe_inputs(layout, memory, kv, builder);
  std::vector<const char*> outputs;
  for (const auto& o : layout.outputs) outputs.push_back(o.name.c_str());
  auto out_a = run(a, in, outputs);
  auto out_b = run(b, in, outputs);
  double worst = 0;
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto info_a = out_a[i].GetTensorTypeAndShapeInfo();
    const auto info_b = out_b[i].GetTensorTypeAndShapeInfo();
    if (info_a.GetShape() != info_b.GetShape() ||
        info_a.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT ||
        info_b.GetElementType() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
      throw Error(std::string("output ") + outputs[i] + " differs in shape or type");
    const float* x = out_a[i].GetTensorData<float>();
    const float* y = out_b[i].GetTensorData<float>();
    const size_t n = info_a.GetElementCount();
    double scale = 1e-6;
    for (size_t k = 0; k < n; ++k) scale = std::max(scale, static_cast<double>(std::fabs(x[k])));
    for (size_t k = 0; k < n; ++k) {
      const double d = std::fabs(static_cast<double>(x[k]) - static_cast<double>(y[k])) / scale;
      worst = std::max(worst, std::isnan(d) ? 1e30 : d);
    }
  }
  return worst;
}

std::optional<Ort::Session> verified_session(const graph::OnnxGraph& graph, const graph::GraphEdit& edit,
                                             Ort::Session& original, const IoLayout& layout,
                                             const SessionOptions& options, std::string& why_not) {
  // Any failure (a pattern misread, ONNX Runtime rejecting the rewrite, the probe failing) keeps
  // the exported graph, which is already loaded and known to work.
  try {
    // The exported graph with float32 activations: the rewrite may have replaced its MatMulNBits.
    const graph::GraphEdit exact = float_activation_matmuls(graph);
    std::optional<Ort::Session> rewritten;
    double difference = 0;
    if (exact.removed.empty()) {
      rewritten.emplace(
          create_session_from_bytes(graph.serialize(edit), graph.path(), options, add_ortlm_ops));
      difference = probe_difference(original, *rewritten, layout);
    } else {  // both probe sessions are released before the kept one is made
      Ort::Session reference = create_session_from_bytes(graph.serialize(exact), graph.path(), options);
      Ort::Session candidate = create_session_from_bytes(graph.serialize(with_float_activations(graph, edit)),
                                                         graph.path(), options, add_ortlm_ops);
      difference = probe_difference(reference, candidate, layout);
    }
    if (difference <= kTolerance)
      return rewritten ? std::move(rewritten)
                       : std::optional(create_session_from_bytes(graph.serialize(edit), graph.path(), options,
                                                                 add_ortlm_ops));
    why_not = "the rewritten graph's outputs differ from the original's (relative " +
              std::to_string(difference) + ")";
  } catch (const std::exception& e) {
    why_not = e.what();
  }
  return std::nullopt;
}

FusedSession fuse_attention(const graph::OnnxGraph& graph, Ort::Session& original, const IoLayout& layout,
                            const graph::AttentionGeometry& geometry, const SessionOptions& options,
                            const graph::GraphEdit& also) {
  FusedSession result;
  try {
    const auto& opsets = graph.summary().opsets;
    auto plan = plan_fusion(graph, layout, geometry, opsets.count("") ? opsets.at("") : 0);
    if (plan.layers == 0) {
      result.note = "not fused: " + plan.why_not;
      return result;
    }
    const graph::GraphEdit edit = merged(std::move(plan.edit), also);
    const size_t before = graph.nodes().size(), after = graph.node_count(edit);
    std::string why_not;
    result.session = verified_session(graph, edit, original, layout, options, why_not);
    result.note = result.session
                      ? "fused in " + std::to_string(plan.layers) + " layers (" + std::to_string(before) +
                            " -> " + std::to_string(after) + " nodes before ONNX Runtime's own optimizations)"
                      : "not fused: " + why_not;
  } catch (const std::exception& e) {
    result.note = std::string("not fused: ") + e.what();
  }
  return result;
}

}  // namespace ortlm::model
