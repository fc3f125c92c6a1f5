#include "ortlm/model.hpp"

#include "graph/onnx_graph.hpp"
#include "graph/passes/lm_head_sharing.hpp"
#include "graph/passes/silu_mul_fusion.hpp"
#include "graph/passes/skip_norm_fusion.hpp"
#include "model/decoder.hpp"
#include "model/fused_session.hpp"
#include "model/io_layout.hpp"
#include "model/model_config.hpp"
#include "model/model_files.hpp"
#include "model/ort_session.hpp"
#include "model/paged_session.hpp"
#include "ortlm/error.hpp"

namespace ortlm {
namespace fs = std::filesystem;

namespace {

void check_external_data(const fs::path& onnx, const graph::OnnxSummary& summary) {
  for (const auto& location : summary.external_data_files) {
    const fs::path data = onnx.parent_path() / location;
    if (!fs::exists(data))
      throw Error(onnx.string() + ": its weights are in external data file '" + location +
                  "', which is missing");
  }
}

// Facts the graph states win over config files that disagree or are silent. The context length may
// stay unknown (0): the model can still be described, and generation asks for --context.
// The graph's dims size buffers (logits, KV): each must be within the limits config files have.
void complete_config(ModelConfig& config, const model::IoLayout& layout, const fs::path& onnx) {
  auto check = [&](const char* what, int64_t value, int64_t most) {
    if (value < 1)
      throw Error(onnx.string() + ": the graph's " + what +
                  " is unknown (a dynamic dim, and no config file states it)");
    if (value > most)
      throw Error(onnx.string() + ": the graph's " + what + " " + std::to_string(value) +
                  " is out of range (1.." + std::to_string(most) + ")");
  };
  check("vocabulary size (logits' last dim)", layout.vocab_size, model::limits::kMaxVocabSize);
  check("layer count (KV inputs)", static_cast<int64_t>(layout.kv.size()), model::limits::kMaxLayers);
  check("KV head count", layout.kv_heads, model::limits::kMaxHeads);
  check("head size", layout.head_size, model::limits::kMaxHeadSize);
  config.vocab_size = static_cast<int32_t>(layout.vocab_size);
  config.num_layers = static_cast<int32_t>(layout.kv.size());
  config.num_kv_heads = static_cast<int32_t>(layout.kv_heads);
  config.head_size = static_cast<int32_t>(layout.head_size);
}

void mark_batching(model::IoLayout& layout, const graph::OnnxSummary& summary) {
  layout.padded_batches = false;
  if (!layout.batch_dynamic)
    layout.why_single_row = "the graph's batch axis is static";
  else if (!layout.attention_mask)
    layout.why_single_row = "the graph has no attention_mask input to mask padding";
  else
    layout.padded_batches = true;
  if (layout.seqlens_k || summary.operators.count("com.microsoft:GroupQueryAttention"))
    layout.padding = model::Padding::right;
}

}  // namespace

Model::~Model() = default;

std::shared_ptr<Model> Model::load(const fs::path& path, const SessionOptions& options) {
  auto files = model::locate_model_files(path);
  // The model file is decoded once: its summary, and the graph the attention rewrite edits.
  const auto onnx_graph = graph::OnnxGraph::load(files.onnx);
  const graph::OnnxSummary& summary = onnx_graph.summary();
  check_external_data(files.onnx, summary);
  auto config_files = model::read_model_config(files.folder);

  std::shared_ptr<Model> model(new Model());
  model->onnx_path_ = files.onnx;
  model->folder_ = files.folder;
  model->config_ = config_files.config;
  if (options.context_length < 0 || options.context_length > kMaxContextLength)
    throw Error("context length must be in [1, " + std::to_string(kMaxContextLength) +
                "] (or 0 for the model's own), not " + std::to_string(options.context_length));
  if (options.context_length > 0) model->config_.context_length = options.context_length;
  const uintmax_t weights = model::weight_bytes(files.onnx, summary);
  const SessionOptions session_options = model::resolve_threads(options, weights);
  auto session = model::create_session(files.onnx, session_options);
  auto layout = model::detect_io_layout(session, config_files.names, model->config_, files.onnx.string());
  complete_config(model->config_, layout, files.onnx);
  // The LM head sharing the tied embedding, the residual norms and the MLP activations ride with the
  // attention rewrite (one probe for all), or are verified alone; --fusion off turns every load-time
  // rewrite off.
  graph::LmHeadSharingPlan sharing;
  graph::SkipNormFusionPlan norms;
  graph::SiluMulFusionPlan activations;
  if (options.attention_fusion != AttentionFusion::never) {
    try {
      sharing = graph::plan_lm_head_sharing(onnx_graph);
    } catch (const std::exception& e) {
      sharing.why_not = e.what();
    }
    try {
      norms = graph::plan_skip_norm_fusion(onnx_graph);
    } catch (const std::exception& e) {
      norms = {};
      norms.why_not = e.what();
    }
    try {
      activations = graph::plan_silu_mul_fusion(onnx_graph);
    } catch (const std::exception& e) {
      activations = {};
      activations.why_not = e.what();
    }
  }
  const graph::GraphEdit also = model::merged(model::merged(sharing.edit, norms.edit), activations.edit);
  bool also_applied = false;
  model->attention_fusion_note_ = "as exported (fusion off)";
  if (options.attention_fusion != AttentionFusion::never && model->config_.context_length <= 0)
    model->attention_fusion_note_ =
        "as exported (the context length, which sizes the RoPE tables, is unknown)";
  else if (options.attention_fusion == AttentionFusion::automatic &&
           weights >=
               (summary.quantization.empty() ? model::kSmallModelBytes : model::kSmallQuantizedModelBytes))
    model->attention_fusion_note_ =
        "as exported (fusion is automatic below 64 MiB of weights, 256 MiB when block-quantized)";
  else if (options.attention_fusion != AttentionFusion::never) {
    const graph::AttentionGeometry geometry{
        .num_heads = config_files.attention.num_heads,
        .kv_heads = layout.kv_heads,
        .head_size = layout.head_size,
        .max_positions = model->config_.context_length,
        .rope_theta = config_files.attention.rope_theta,
        .plain_rope = config_files.attention.plain_rope,
    };
    auto fused = model::fuse_attention(onnx_graph, session, layout, geometry, session_options, also);
    if (fused.session) {
      session = std::move(*fused.session);
      also_applied = true;
    }
    model->attention_fusion_note_ = std::move(fused.note);
  }
  if (!also_applied && (sharing.shares() || norms.norms > 0 || activations.activations > 0)) {
    std::string why_not;
    auto rewritten = model::verified_session(onnx_graph, also, session, layout, session_options, why_not);
    if (rewritten) session = std::move(*rewritten);
    also_applied = rewritten.has_value();
    if (!rewritten) sharing.why_not = norms.why_not = activations.why_not = why_not;
  }
  model->lm_head_note_ = also_applied && sharing.shares()
                             ? "reads the tied embedding (com.microsoft FusedMatMul, transB = 1; the "
                               "transposed copy is dropped)"
                             : "as exported" + (sharing.why_not.empty() ? "" : " (" + sharing.why_not + ")");
  model->norms_note_ = also_applied && norms.norms > 0
                           ? std::to_string(norms.norms) +
                                 " residual sums and RMSNorms fused (com.microsoft "
                                 "SkipSimplifiedLayerNormalization)"
                           : "as exported" + (norms.why_not.empty() ? "" : " (" + norms.why_not + ")");
  model->mlp_note_ =
      also_applied && activations.activations > 0
          ? std::to_string(activations.activations) + " silu(gate) * up fused (ortlm.SiluMul; " +
                std::to_string(activations.packed) + " read the stacked gate/up projection)"
          : "as exported" + (activations.why_not.empty() ? "" : " (" + activations.why_not + ")");
  model->summary_ = std::make_unique<const graph::OnnxSummary>(summary);
  model->options_ = options;
  mark_batching(layout, summary);
  model->decoder_ = std::make_unique<const model::Decoder>(
      model::Decoder{std::move(session), std::move(layout), model->config_.context_length});
  if (fs::exists(files.folder / "tokenizer.json") || fs::exists(files.folder / "vocab.json"))
    model->tokenizer_ = Tokenizer::from_path(files.folder);
  return model;
}

model::PagedSession& Model::paged_session() const {
  std::call_once(paged_once_, [&] {
    paged_ = std::make_unique<model::PagedSession>(model::make_paged_session(*this, options_));
  });
  return *paged_;
}

}  // namespace ortlm
