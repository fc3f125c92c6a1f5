#include "ortlm/model.hpp"

#include "graph/onnx_graph.hpp"
#include "graph/passes/attention_fusion.hpp"
#include "model/decoder.hpp"
#include "model/io_layout.hpp"
#include "model/load_rewrites.hpp"
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
  // The dense session's rewrites wait for its first use (decoder()): engines that run only the paged
  // session never build them.
  model->geometry_ = std::make_unique<const graph::AttentionGeometry>(graph::AttentionGeometry{
      .num_heads = config_files.attention.num_heads,
      .kv_heads = layout.kv_heads,
      .head_size = layout.head_size,
      .max_positions = model->config_.context_length,
      .rope_theta = config_files.attention.rope_theta,
      .plain_rope = config_files.attention.plain_rope,
  });
  model->session_options_ = session_options;
  model->weights_ = weights;
  model->summary_ = std::make_unique<const graph::OnnxSummary>(summary);
  mark_batching(layout, summary);
  model->decoder_ = std::make_unique<const model::Decoder>(
      model::Decoder{std::move(session), std::move(layout), model->config_.context_length});
  if (fs::exists(files.folder / "tokenizer.json") || fs::exists(files.folder / "vocab.json"))
    model->tokenizer_ = Tokenizer::from_path(files.folder);
  return model;
}

const model::Decoder& Model::decoder() const {
  std::call_once(rewrite_once_, [&] {
    const std::lock_guard lock(build_mutex_);
    // Released when a paged session was kept first (paged_session()): made again from the file.
    if (!decoder_->session) decoder_->session = model::create_session(onnx_path_, session_options_);
    const auto graph = graph::OnnxGraph::load(onnx_path_);
    auto rewrites = model::rewrite_decoder(graph, decoder_->session, decoder_->layout, *geometry_,
                                           session_options_, weights_);
    if (rewrites.session) decoder_->session = std::move(*rewrites.session);
    attention_fusion_note_ = std::move(rewrites.attention);
    lm_head_note_ = std::move(rewrites.lm_head);
    norms_note_ = std::move(rewrites.norms);
    mlp_note_ = std::move(rewrites.mlp);
    matmul_note_ = std::move(rewrites.matmuls);
    rewrites_made_ = true;
  });
  return *decoder_;
}

const std::string& Model::attention_fusion_note() const {
  decoder();
  return attention_fusion_note_;
}

model::PagedSession& Model::paged_session() const {
  std::call_once(paged_once_, [&] {
    const std::lock_guard lock(build_mutex_);  // its probe reads the dense session, which decoder() may swap
    paged_ = std::make_unique<model::PagedSession>(model::make_paged_session(*this));
    // Paged engines never run the exported session, so its weights go once the paged one is kept; a
    // dense engine asking later gets it made again (decoder()). Once decoder() has run, dense engines
    // may hold it: it stays.
    if (paged_->session && !rewrites_made_.load()) decoder_->session = Ort::Session{nullptr};
  });
  return *paged_;
}

}  // namespace ortlm
