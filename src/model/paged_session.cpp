#include "model/paged_session.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

#include "graph/passes/int4_matmul.hpp"
#include "graph/passes/lm_head_sharing.hpp"
#include "graph/passes/silu_mul_fusion.hpp"
#include "graph/passes/skip_norm_fusion.hpp"
#include "model/custom_ops.hpp"
#include "model/decoder.hpp"
#include "model/fused_session.hpp"
#include "model/input_builder.hpp"
#include "model/int4_matmul_op.hpp"
#include "model/kv_block_pool.hpp"
#include "model/model_config.hpp"
#include "model/ort_session.hpp"
#include "model/padded_kv_cache.hpp"
#include "model/paged_runner.hpp"
#include "ortlm/error.hpp"

namespace ortlm::model {
namespace {

// float32 outputs of the two graphs differ by operator rounding only (~1e-6 relative).
constexpr double kTolerance = 1e-4;

// The probe: three rows packed in one pass over a pool of 16-token blocks (the vector kernels' block
// size) given out of order, so that a row's positions cross blocks that are not adjacent: a prefill
// from nothing, a chunk after a cached past that ends mid-block, and a decode step after a past that
// fills its first block and all but one slot of the next. The past is random ([-1, 1)), written
// alike into the pool and into the exported graph's past.
constexpr int32_t kProbeBlockSize = 16, kProbeBlocks = 8, kProbeContext = 32;
struct ProbeRow {
  int32_t cached, count;
  std::vector<int32_t> blocks;
};
const std::vector<ProbeRow>& probe_rows() {
  static const std::vector<ProbeRow> rows{{0, 20, {5, 2}}, {14, 4, {7, 0}}, {31, 1, {3, 6}}};
  return rows;
}

double relative_difference(const float* expected, const float* actual, size_t n, double scale) {
  double worst = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::fabs(static_cast<double>(expected[i]) - static_cast<double>(actual[i])) / scale;
    worst = std::max(worst, std::isnan(d) ? 1e30 : d);
  }
  return worst;
}

// One probe row alone through the exported graph: the past [1, kv_heads, cached, head_size] per layer
// key and value as given, all logits and presents returned.
std::vector<Ort::Value> run_exported(Ort::Session& exported, const IoLayout& layout, const ProbeRow& row,
                                     const std::vector<int32_t>& ids, std::vector<std::vector<float>>& past) {
  const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  PaddedKvCache kv(layout);
  kv.reset(1, row.cached + row.count);
  const int32_t cached[1] = {row.cached};
  kv.commit(cached, row.cached);
  InputBuilder builder(layout);
  ForwardBatch batch;
  batch.rows = {{.tokens = ids, .logits = LogitsWanted::all}};
  builder.build(batch, kv, memory);
  std::vector<const char*> names(builder.names().begin(), builder.names().end());
  std::vector<Ort::Value> values;
  for (auto& v : builder.values()) values.push_back(std::move(v));
  const std::vector<int64_t> shape{1, layout.kv_heads, row.cached, layout.head_size};
  std::vector<const char*> outputs{layout.logits.name.c_str()};
  for (size_t l = 0; l < layout.kv.size(); ++l) {
    for (int half = 0; half < 2; ++half) {
      auto& data = past[l * 2 + static_cast<size_t>(half)];
      names.push_back(half == 0 ? layout.kv[l].past_key.c_str() : layout.kv[l].past_value.c_str());
      values.push_back(Ort::Value::CreateTensor(memory, data.data(), row.cached == 0 ? 0 : data.size(),
                                                shape.data(), shape.size()));
      outputs.push_back(half == 0 ? layout.kv[l].present_key.c_str() : layout.kv[l].present_value.c_str());
    }
  }
  return exported.Run(Ort::RunOptions{nullptr}, names.data(), values.data(), values.size(), outputs.data(),
                      outputs.size());
}

}  // namespace

graph::PagedAttentionPlan plan_paged(const graph::OnnxGraph& graph, const IoLayout& layout,
                                     const graph::AttentionGeometry& geometry, int64_t onnx_opset) {
  graph::PagedAttentionPlan refused;
  if (layout.kv_layout != KvLayout::separate || layout.kv.empty() || layout.seqlens_k ||
      layout.use_cache_branch)
    refused.why_not = "not a separate-KV optimum layout with attention in standard operators";
  else if (layout.kv_type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    refused.why_not = "the KV cache is not float32 (the paged attention operator reads fp32 KV only)";
  else if (layout.logits.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    refused.why_not = "the logits are not float32";
  else if (!layout.position_ids)
    refused.why_not = "the graph has no position_ids input";
  if (!refused.why_not.empty()) return refused;
  const auto sharing = graph::plan_lm_head_sharing(graph);
  const graph::PagedAttentionIo io{
      .kv = layout.kv,
      .input_ids = layout.input_ids.name,
      .position_ids = layout.position_ids->name,
      .logits = layout.logits.name,
      .attention_mask =
          layout.attention_mask ? std::optional<std::string>(layout.attention_mask->name) : std::nullopt,
      .vocab_size = layout.vocab_size,
      // The LM head reads the tied embedding when the graph keeps a transposed copy (one copy of
      // the weights in memory, and read per step), as the dense session does.
      .lm_head = sharing.shares() ? std::optional(sharing.edit.added.front()) : std::nullopt,
  };
  auto plan = graph::plan_paged_attention(graph, io, geometry, onnx_opset);
  if (plan.layers == 0) return plan;
  plan.edit.removed_initializers.insert(sharing.edit.removed_initializers.begin(),
                                        sharing.edit.removed_initializers.end());
  plan.lm_head_shared = sharing.shares();
  // The residual norms and MLP activations too (their nodes are not the attention's): fewer nodes per step.
  plan.edit = merged(merged(std::move(plan.edit), graph::plan_skip_norm_fusion(graph).edit),
                     graph::plan_silu_mul_fusion(graph).edit);
  // And the 4-bit matrix products, the LM head the rewrite keeps included, where this CPU has the kernel.
  if (int4_matmul_available()) {
    auto matmuls = graph::plan_int4_matmuls(graph, std::move(plan.edit));
    plan.edit = std::move(matmuls.edit);
    plan.int4_matmuls = matmuls.matmuls;
  }
  return plan;
}

PagedProbeResult paged_probe_difference(Ort::Session& exported, Ort::Session& paged, const IoLayout& layout,
                                        int32_t context_length) {
  if (context_length < kProbeContext)
    throw Error("the context length " + std::to_string(context_length) + " is too short for the probe");
  KvBlockPool pool(layout, kProbeBlockSize, kProbeBlocks);
  const auto D = static_cast<size_t>(layout.head_size), heads = static_cast<size_t>(layout.kv_heads);
  uint32_t state = 12345;  // a fixed pseudo-random past in [-1, 1)
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::vector<Ort::Value>> expected;
  for (const auto& row : probe_rows()) {
    auto& row_ids = ids.emplace_back();
    for (int32_t i = 0; i < row.count; ++i)
      row_ids.push_back(static_cast<int32_t>((i * 7 + 3 + row.cached * 5) % layout.vocab_size));
    std::vector<std::vector<float>> past(layout.kv.size() * 2);
    for (size_t tensor = 0; tensor < past.size(); ++tensor) {
      auto& data = past[tensor];
      data.resize(std::max<size_t>(heads * static_cast<size_t>(row.cached) * D, 1));
      for (auto& x : data) {
        state = state * 1664525u + 1013904223u;
        x = static_cast<float>(state >> 8) / static_cast<float>(1u << 23) - 1.0f;
      }
      for (size_t g = 0; g < heads; ++g)
        for (int32_t p = 0; p < row.cached; ++p)
          std::memcpy(pool.slot(tensor / 2, static_cast<int>(tensor % 2), row.blocks[p / kProbeBlockSize],
                                static_cast<int64_t>(g), p % kProbeBlockSize),
                      data.data() + (g * static_cast<size_t>(row.cached) + static_cast<size_t>(p)) * D,
                      D * sizeof(float));
    }
    expected.push_back(run_exported(exported, layout, row, row_ids, past));
  }

  PagedRunner runner(paged, layout, context_length, pool);
  PagedBatch batch;
  for (size_t r = 0; r < probe_rows().size(); ++r)
    batch.rows.push_back({.tokens = ids[r],
                          .cached = probe_rows()[r].cached,
                          .blocks = probe_rows()[r].blocks,
                          .logits = LogitsWanted::all});
  const Logits& logits = runner.run(batch);

  PagedProbeResult result;
  const auto vocab = static_cast<size_t>(layout.vocab_size);
  for (size_t r = 0; r < probe_rows().size(); ++r) {
    const ProbeRow& row = probe_rows()[r];
    const float* dense = expected[r][0].GetTensorData<float>();
    if (logits.count(r) != static_cast<size_t>(row.count))
      throw Error("the paged probe returned " + std::to_string(logits.count(r)) + " logits rows for " +
                  std::to_string(row.count));
    double scale = 1e-6;
    for (size_t i = 0; i < static_cast<size_t>(row.count) * vocab; ++i)
      scale = std::max(scale, static_cast<double>(std::fabs(dense[i])));
    for (size_t k = 0; k < static_cast<size_t>(row.count); ++k)
      result.logits = std::max(result.logits,
                               relative_difference(dense + k * vocab, logits.at(r, k).data(), vocab, scale));
    // Every position's keys and values, the new ones included, where the block table says.
    const auto total = static_cast<size_t>(row.cached + row.count);
    for (size_t tensor = 0; tensor < layout.kv.size() * 2; ++tensor) {
      const float* present = expected[r][1 + tensor].GetTensorData<float>();
      double kv_scale = 1e-6;
      for (size_t i = 0; i < heads * total * D; ++i)
        kv_scale = std::max(kv_scale, static_cast<double>(std::fabs(present[i])));
      for (size_t g = 0; g < heads; ++g)
        for (size_t p = 0; p < total; ++p) {
          const auto* slot = reinterpret_cast<const float*>(
              pool.slot(tensor / 2, static_cast<int>(tensor % 2), row.blocks[p / kProbeBlockSize],
                        static_cast<int64_t>(g), static_cast<int64_t>(p % kProbeBlockSize)));
          result.kv =
              std::max(result.kv, relative_difference(present + (g * total + p) * D, slot, D, kv_scale));
        }
    }
  }
  return result;
}

PagedSession make_paged_session(const graph::OnnxGraph& graph, Ort::Session& exported, const IoLayout& layout,
                                const graph::AttentionGeometry& geometry, const SessionOptions& options) {
  PagedSession result;
  // Any failure (a pattern the matcher misreads, ONNX Runtime rejecting the rewrite, the probe
  // failing) keeps the dense path, which is already loaded and known to work.
  try {
    const auto& opsets = graph.summary().opsets;
    const auto plan = plan_paged(graph, layout, geometry, opsets.count("") ? opsets.at("") : 0);
    if (plan.layers == 0) {
      result.note = "not paged: " + plan.why_not;
      return result;
    }
    const size_t before = graph.nodes().size(), after = graph.node_count(plan.edit);
    const auto paged_session = [&](const graph::GraphEdit& edit) {
      return create_session_from_bytes(graph.serialize(edit), graph.path(), options, add_ortlm_ops);
    };
    // int8-activation MatMulNBits are probed in float32 on both sides (float_activation_matmuls).
    // The exported graph's nodes and those the rewrite adds (a quantized LM head) alike.
    const graph::GraphEdit exact = float_activation_matmuls(graph);
    Ort::Session paged = exact.removed.empty() ? paged_session(plan.edit)
                                               : paged_session(with_float_activations(graph, plan.edit));
    std::optional<Ort::Session> exact_exported;
    if (!exact.removed.empty())
      exact_exported.emplace(create_session_from_bytes(graph.serialize(exact), graph.path(), options));
    const auto difference = paged_probe_difference(exact_exported ? *exact_exported : exported, paged, layout,
                                                   static_cast<int32_t>(geometry.max_positions));
    if (difference.logits > kTolerance || difference.kv > kTolerance) {
      result.note = "not paged: the packed graph's outputs differ from the exported graph's (relative " +
                    std::to_string(std::max(difference.logits, difference.kv)) + ")";
      return result;
    }
    if (!exact.removed.empty()) {  // the probe's sessions go before the kept one is made
      exact_exported.reset();
      paged = Ort::Session{nullptr};
      paged = paged_session(plan.edit);
    }
    result.session = std::move(paged);
    result.note =
        "paged in " + std::to_string(plan.layers) + " layers (" + std::to_string(before) + " -> " +
        std::to_string(after) + " nodes before ONNX Runtime's own optimizations" +
        (plan.stacked_projections > 0 ? "; stacked q/k/v read whole" : "") +
        (plan.int4_matmuls > 0 ? "; " + std::to_string(plan.int4_matmuls) + " ortlm.Int4MatMul" : "") +
        (plan.lm_head_shared ? "; the LM head reads the tied embedding)" : ")");
  } catch (const std::exception& e) {
    result.note = std::string("not paged: ") + e.what();
  }
  return result;
}

PagedSession make_paged_session(const Model& model) {
  const auto graph = graph::OnnxGraph::load(model.onnx_path());
  const model::Decoder& decoder = model.decoder_as_loaded();
  return make_paged_session(graph, decoder.session, decoder.layout, model.attention_geometry(),
                            model.session_options());
}

}  // namespace ortlm::model
