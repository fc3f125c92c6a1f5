#pragma once
// Load-time rewrite of a Llama-family decoder into a packed ("varlen") graph over a paged KV cache.
// Each layer's RoPE, Concat(past, new) and attention become one ortlm.PagedAttention node (model/
// paged_attention_op), which rotates the layer's new queries and keys, appends the keys and values
// into the engine's KV block pool in place and attends over each row's blocks through its block table. The
// graph then takes every row's new tokens packed in one [1, T] sequence (no padding) with their positions,
// the batch metadata below (shared by all layers) and the positions whose logits are wanted: the past/present
// KV inputs and outputs and the attention mask are gone, and the logits are [1, N, vocab] for the N
// gathered positions instead of [1, T, vocab]. model/paged_session keeps the result only if it
// reproduces the exported graph on a probe.
#include <optional>
#include <string>
#include <vector>

#include "graph/onnx_graph.hpp"
#include "graph/passes/attention_fusion.hpp"

namespace ortlm::graph {

// The operator and the inputs the rewrite adds, as named in the rewritten graph.
namespace paged {
inline constexpr const char* kDomain = "ortlm";
inline constexpr const char* kOp = "PagedAttention";
// int32 [rows + 1]: row r's new tokens are packed positions [row_starts[r], row_starts[r + 1]).
inline constexpr const char* kRowStarts = "ortlm_row_starts";
// int32 [rows]: tokens already in row r's blocks; its new tokens take positions cached, cached + 1, ...
inline constexpr const char* kCachedLengths = "ortlm_cached_lengths";
// int32 [rows, max_blocks]: row r's blocks in position order (entries past its last token unused).
inline constexpr const char* kBlockTables = "ortlm_block_tables";
// int64 [1]: the handle of the model::KvBlockPool the op reads and writes (KvBlockPool::handle()).
inline constexpr const char* kKvPool = "ortlm_kv_pool";
// int64 [N]: the packed positions whose logits the graph computes, in output order.
inline constexpr const char* kLogitsIndex = "ortlm_logits_index";
}  // namespace paged

// The exported graph's names the rewrite reads.
struct PagedAttentionIo {
  std::vector<KvTensors> kv;  // one per layer
  std::string input_ids, position_ids, logits;
  std::optional<std::string> attention_mask;  // removed by the rewrite when the graph has it
  int64_t vocab_size = 0;
  // The node computing the logits from the hidden states when another rewrite replaces the graph's
  // own (the LM head sharing's FusedMatMul); it is applied to the gathered hidden states instead.
  std::optional<GraphNode> lm_head;
};

struct PagedAttentionPlan {
  GraphEdit edit;
  size_t layers = 0;               // layers rewritten (all of them, or none)
  std::string why_not;             // when none: what did not match, for `ortlm info`
  bool lm_head_shared = false;     // io.lm_head was the LM head sharing's (model/paged_session sets it)
  size_t stacked_projections = 0;  // layers whose attention reads a stacked q/k/v projection whole
  size_t int4_matmuls = 0;         // MatMulNBits made ortlm.Int4MatMul (model/paged_session sets it)
};

// Finds every layer's attention (the attention fusion's matcher); all layers must match, and nothing
// the rewritten graph keeps may still read the past KV or the attention mask, else nothing is changed.
PagedAttentionPlan plan_paged_attention(const OnnxGraph& graph, const PagedAttentionIo& io,
                                        const AttentionGeometry& geometry, int64_t onnx_opset);

}  // namespace ortlm::graph
