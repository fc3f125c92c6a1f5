#pragma once
// The step-wise generation engine: requests are queued, and each step() runs one forward pass over
// several sequences at once (a prefill of newly admitted prompts, or one decode token for every
// running sequence), samples each row and streams its text. Generator is a one-request facade on it.
//
// Scheduling (continuous batching): requests are admitted in arrival order whenever their rows
// fit beside the running ones (max_batch_rows in all), prefilled together in a pass of their own
// (left-padded, in chunks), then join the running sequences, which decode one token per pass; rows
// that finish leave at once and make room for the next. After a prefill the running sequences
// decode once before the next admission, so arrivals never starve them. A beam search request
// (num_beams > 1) takes num_beams rows: its prompt is prefilled in one row, which then forks into
// its beams (KV rows gathered, never recomputed); one wider than max_batch_rows runs alone.
//
// Prefix cache (prefix_cache_mib > 0): the KV of every full block of kv_block_size tokens a request
// computes is kept (least recently used blocks make room for new ones), and a later request whose
// tokens start with the same blocks (a system prompt, earlier turns of a chat) loads them instead of
// recomputing them. Results are the same with or without it.
//
// Threads: one thread at a time calls add_request, step, take_finished and run; abort may be
// called from any thread. Engines are independent: any number of them (on any threads) may share
// one Model.
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

#include "ortlm/generator.hpp"
#include "ortlm/model.hpp"

namespace ortlm {

inline constexpr int32_t kMaxBatchRows = 256;

struct EngineOptions {
  // Sequences per forward pass, 1..kMaxBatchRows. Graphs that cannot mask padding (`ortlm info`
  // "batching") run one row per pass whatever this says, except for a beam search's rows (all of one
  // length, they need no padding).
  int32_t max_batch_rows = 16;
  // Prompt tokens per prefill pass, all rows together (>= 1): a wave's padded prompts are fed in
  // column chunks of max(1, prefill_chunk / rows). Bounds the activations and the logits buffer,
  // which exports compute for every position (rows x columns x vocab floats). GroupQueryAttention
  // graphs prefill a wave in one pass: there it bounds rows x longest prompt of a wave instead
  // (a request alone is always admitted, and prefilled in chunks).
  int32_t prefill_chunk = 512;
  // Memory for the prefix cache in MiB (0 = off, at most kMaxPrefixCacheMib), and its block size
  // in tokens (1..kMaxKvBlockSize).
  int32_t prefix_cache_mib = 0;
  int32_t kv_block_size = 16;
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
  // Prefix cache blocks (all 0 when it is off): referenced by running requests, cached for reuse, free.
  int32_t blocks_used = 0, blocks_cached = 0, blocks_free = 0;
  uint64_t blocks_evicted = 0;
};

using RequestId = uint64_t;

class Engine {
 public:
  // Throws ortlm::Error for options out of range.
  explicit Engine(std::shared_ptr<const Model> model, const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Queues a request. Throws ortlm::Error (nothing queued) for invalid options, ids outside the
  // vocabulary, an empty prompt when the model has no BOS token, a prompt over the context length, a
  // max_length not above the prompt's length, or beam search on a graph whose batch axis is static.
  // `on_token` is called from step() on the thread that steps.
  RequestId add_request(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                        TokenCallback on_token = {});
  // Encodes `prompt` with the model's tokenizer (adding BOS as the model is configured).
  RequestId add_request(std::string_view prompt, const GenerationOptions& options,
                        TokenCallback on_token = {});

  // Ends a request (StopReason::cancelled) at the next step. Safe to call from any thread, and from a
  // token callback; unknown or finished ids are ignored.
  void abort(RequestId id);

  // One forward pass and what follows from it. Returns whether requests remain unfinished.
  bool step();
  bool has_unfinished() const;
  EngineStats stats() const;
  // Results of the requests finished since the last call, in the order they finished.
  std::vector<std::pair<RequestId, GenerationResult>> take_finished();
  // Steps until every request is done; returns the results not yet taken, ordered by request id.
  std::vector<std::pair<RequestId, GenerationResult>> run();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace ortlm
