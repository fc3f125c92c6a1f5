#pragma once
// How an Engine (and a Generator, a one-request engine) batches and caches: rows per forward pass,
// prefill chunk, prefix cache. Its own header so that generator.hpp can take it too.
#include <cstddef>
#include <cstdint>

namespace ortlm {

inline constexpr int32_t kMaxBatchRows = 256;

// Where running sequences keep their KV (docs/serving.md).
enum class KvCacheKind {
  // Dense [rows, heads, width, head] tensors as the exported graph reads them, rows left-padded to
  // the longest; the prefix cache copies full blocks out and back. Works with every layout.
  dense,
  // Blocks of kv_block_size tokens in one pool shared by all sequences, read and written in place by
  // ortlm's paged-attention operator through each row's block table; a batch's new tokens packed
  // without padding, prefills riding with the decode rows; prefix-cache hits and beams share blocks
  // (copy on write); when blocks run out the newest sequence is preempted and recomputed later.
  // Needs a second ONNX Runtime session of the model, built and verified when the first engine asks
  // for it; refused (ortlm::Error with the reason) for graphs the rewrite cannot handle.
  paged,
  // paged where the model's graph allows it, else dense.
  automatic,
};

struct EngineOptions {
  // Sequences per forward pass, 1..kMaxBatchRows. Graphs that cannot mask padding (`ortlm info`
  // "batching") run one row per pass whatever this says, except for a beam search's rows (all of one
  // length, they need no padding).
  int32_t max_batch_rows = 16;
  // Prompt tokens per prefill pass, all rows together (>= 1): the prompts admitted together are
  // left-padded and fed in column chunks of max(1, prefill_chunk / rows). Bounds the activations and
  // the logits buffer, which exports compute for every position (rows x columns x vocab floats).
  // GroupQueryAttention graphs (right padding) prefill one request at a time.
  int32_t prefill_chunk = 512;
  // Memory for the prefix cache in MiB (0 = off, at most kMaxPrefixCacheMib), and its block size
  // in tokens (1..kMaxKvBlockSize).
  int32_t prefix_cache_mib = 0;
  int32_t kv_block_size = 16;
  KvCacheKind kv_cache = KvCacheKind::dense;
  // Paged KV: memory for the running sequences' blocks in MiB, on top of prefix_cache_mib (0 = room
  // for max_batch_rows sequences of the full context, at most 1 GiB, and at least one full context).
  int32_t kv_cache_mib = 0;
};

inline constexpr int32_t kMaxPrefixCacheMib = 1 << 20;
inline constexpr int32_t kMaxKvBlockSize = 1024;

// What an engine is doing, for monitoring (a server's /metrics).
struct EngineStats {
  size_t waiting = 0;                 // requests queued, not yet admitted
  size_t running = 0;                 // requests being generated
  size_t rows = 0;                    // KV rows they hold
  uint64_t prompt_tokens = 0;         // prompt tokens of admitted requests, since the start
  uint64_t cached_prompt_tokens = 0;  // of which loaded from the prefix cache instead of computed
  uint64_t generated_tokens = 0;
  // KV blocks (all 0 when dense without a prefix cache): referenced by running requests, cached for reuse,
  // free.
  int32_t blocks_used = 0, blocks_cached = 0, blocks_free = 0;
  uint64_t blocks_evicted = 0;
  bool paged = false;        // the KV lives in a paged block pool (KvCacheKind::paged), not dense rows
  uint64_t preemptions = 0;  // sequences preempted for want of KV blocks (paged), recomputed later
};

}  // namespace ortlm
