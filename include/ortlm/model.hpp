#pragma once
// Loading an ONNX decoder export (optimum / onnx-community / transformers.js or ONNX Runtime GenAI
// layout) and describing what was found.
#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ortlm/tokenizer.hpp"

namespace ortlm {

// Whether to rewrite each layer's attention into fewer, larger operators when the model is loaded
// (Llama-family graphs in the optimum layout; see docs/models.md). The rewrite is kept only when it
// reproduces the original graph's outputs on a probe. `automatic` applies it to models under
// 64 MiB, whose decode steps are dominated by dispatching operators; on larger, memory-bound
// models it gains little and would cost a second session at load time.
enum class AttentionFusion { automatic, always, never };

struct SessionOptions {
  // Threads: 0 = auto (intra-op: 1 for models under 64 MiB, else one per physical core); at most
  // kMaxThreadsPerCore x the machine's logical cores (more only slows ONNX Runtime down).
  int intra_op_threads = 0;
  int inter_op_threads = 1;
  std::string provider = "cpu";       // execution provider by name: cpu, cuda, tensorrt, dml, coreml, ...
  int graph_optimization_level = 99;  // 0 none, 1 basic, 2 extended, 99 all
  // ONNX Runtime's CPU memory arena. A process with a fast general allocator (mimalloc, as the CLI
  // has) decodes ~10% faster without it; with glibc malloc the arena is the better choice.
  bool cpu_arena = true;
  AttentionFusion attention_fusion = AttentionFusion::automatic;
  // The context length in tokens; 0 = the model's own (config.json / genai_config.json). Needed for
  // a bare .onnx file without config files.
  int32_t context_length = 0;
};

inline constexpr int kMaxThreadsPerCore = 4;
// The longest context ortlm accepts, from a config file or SessionOptions: 2^24 = 16,777,216
// positions (the longest real configs state ~10M).
inline constexpr int32_t kMaxContextLength = 1 << 24;

// Facts about the model, from config.json / genai_config.json / generation_config.json and the graph.
struct ModelConfig {
  std::string model_type;
  int32_t vocab_size = 0;
  int32_t context_length = 0;
  int32_t num_layers = 0;
  int32_t num_kv_heads = 0;
  int32_t head_size = 0;
  std::optional<int32_t> bos_token_id;
  std::optional<int32_t> pad_token_id;
  std::vector<int32_t> eos_token_ids;
  bool add_bos_token = false;  // tokenizer_config.json / the post-processor adds BOS to prompts
};

namespace model {
struct Decoder;       // internal: the ONNX session and its I/O layout
struct PagedSession;  // internal: the packed, paged-attention session (model/paged_session)
}  // namespace model
namespace graph {
struct OnnxSummary;        // internal: the model file's opsets, operators and external data files
struct AttentionGeometry;  // internal: heads, head size and RoPE of the attention rewrites
}  // namespace graph

class Model {
 public:
  // A model folder, or one .onnx file (config files are then looked for beside it and one level up).
  // Throws ortlm::Error naming the file, input or operator that cannot be used.
  static std::shared_ptr<Model> load(const std::filesystem::path& path, const SessionOptions& options = {});
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  const ModelConfig& config() const { return config_; }
  const std::filesystem::path& onnx_path() const { return onnx_path_; }
  const std::filesystem::path& folder() const { return folder_; }
  // The model's tokenizer, or null when the folder has none (then only ids can be generated).
  const Tokenizer* tokenizer() const { return tokenizer_ ? &*tokenizer_ : nullptr; }
  // Internal: the dense decoder session engines run (ortlm's own engine and model code use it). The
  // load-time rewrites (attention, LM head, norms, MLP: verified against the exported graph) are made
  // on the first call, so a model only ever run paged never builds them. Thread-safe.
  const model::Decoder& decoder() const;
  // Internal: the decoder as loaded, without making the rewrites: its layout and context length, and
  // a session computing what the exported graph computes (the paged session's probe reads it), which
  // is released once a paged session is kept while decoder() has not run (decoder() makes it again).
  const model::Decoder& decoder_as_loaded() const { return *decoder_; }
  // Internal: what the load-time rewrites are built with: the attention's geometry (heads, head size,
  // RoPE, the context length as max_positions) and the session options (threads resolved).
  const graph::AttentionGeometry& attention_geometry() const { return *geometry_; }
  const SessionOptions& session_options() const { return session_options_; }
  // Internal: whether decoder() has made the rewrites yet.
  bool dense_rewrites_made() const { return rewrites_made_.load(); }
  // Internal: the paged session (KvCacheKind::paged engines run it), built and verified on the first
  // call (a second ONNX Runtime session: seconds); its `session` is empty when the rewrite does not
  // apply, and its `note` says why. When it is kept before decoder() has run, the exported session is
  // released (the weights are in memory once). Thread-safe.
  model::PagedSession& paged_session() const;
  // What the load-time attention rewrite did ("fused in 5 layers ...", "not fused: ...", "off").
  const std::string& attention_fusion_note() const;
  // A human-readable description: inputs, outputs, layout, dims, opset, file sizes (`ortlm info`).
  std::string describe() const;

 private:
  Model() = default;
  ModelConfig config_;
  std::filesystem::path onnx_path_;
  std::filesystem::path folder_;
  // What the dense session's rewrites did, or why not (`ortlm info`); set by decoder().
  mutable std::string attention_fusion_note_;
  mutable std::string lm_head_note_;  // the LM head sharing the embedding
  mutable std::string norms_note_;    // residual sums fused into the norms after them
  mutable std::string mlp_note_;      // MLP activations fused (SiluMul)
  mutable std::string matmul_note_;   // 4-bit matrix products read by ortlm.Int4MatMul
  std::optional<Tokenizer> tokenizer_;
  std::unique_ptr<const model::Decoder> decoder_;  // its session is swapped once, by decoder()
  // What the rewrites need: the attention's geometry, the session options (threads resolved) and
  // the weights' size (the automatic mode's limits).
  std::unique_ptr<const graph::AttentionGeometry> geometry_;
  SessionOptions session_options_;
  uintmax_t weights_ = 0;
  mutable std::once_flag rewrite_once_;
  mutable std::atomic<bool> rewrites_made_{false};
  mutable std::mutex build_mutex_;  // the rewrites and the paged session are built one at a time
  std::unique_ptr<const graph::OnnxSummary> summary_;
  mutable std::once_flag paged_once_;
  mutable std::unique_ptr<model::PagedSession> paged_;
};

}  // namespace ortlm
