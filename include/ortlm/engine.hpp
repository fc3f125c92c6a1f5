#pragma once
// The step-wise generation engine: requests are queued, and each step() runs a forward pass over
// several sequences at once (newly admitted prompts and/or one decode token for every running
// sequence), samples each row and streams its text. Generator is a one-request facade on it.
//
// Scheduling (continuous batching): requests are admitted in arrival order whenever their rows
// fit beside the running ones (max_batch_rows in all); rows that finish leave at once and make room
// for the next. A beam search request (num_beams > 1) takes num_beams rows: its prompt is prefilled
// in one row, which then forks into its beams (KV shared, never recomputed); one wider than
// max_batch_rows runs alone.
//
// KV (EngineOptions::kv_cache): dense rows prefill the admitted prompts together in a pass of their
// own (left-padded, in chunks), then join the running sequences, which decode one token per pass;
// after a prefill the running sequences decode once before the next admission, so arrivals never
// starve them. Paged KV packs every running row's token and the admitted prompts (in chunks of the
// token budget) into one pass without padding; when the pool's blocks run out the newest sequence is
// preempted and later recomputed from its tokens (results do not change).
//
// Prefix cache (prefix_cache_mib > 0): the KV of every full block of kv_block_size tokens a request
// computes is kept (least recently used blocks make room for new ones), and a later request whose
// tokens start with the same blocks (a system prompt, earlier turns of a chat) reuses them instead of
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

#include "ortlm/engine_options.hpp"
#include "ortlm/generator.hpp"
#include "ortlm/model.hpp"

namespace ortlm {

using RequestId = uint64_t;

class Engine {
 public:
  // Throws ortlm::Error for options out of range, or KvCacheKind::paged on a graph the paged rewrite
  // cannot handle (the message says why). The first paged engine of a model builds its paged session.
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
