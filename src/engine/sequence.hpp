#pragma once
// One request inside the engine: its ids (prompt + generated), sampling state, stop conditions and
// streamed text. The engine feeds it the logits of its row after each pass; the sequence picks the
// next token, streams the text it completes and says when it is done.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/beam_search.hpp"
#include "engine/block_manager.hpp"
#include "engine/sampler.hpp"
#include "engine/stop_strings.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/generator.hpp"
#include "ortlm/tokenizer.hpp"

namespace ortlm::engine {

enum class SequenceStatus { waiting, running, finished };

class Sequence {
 public:
  using Clock = std::chrono::steady_clock;

  // `prompt_ids` are checked by the engine; `options` must have passed validate().
  Sequence(RequestId id, std::vector<int32_t> prompt_ids, const GenerationOptions& options, uint64_t seed,
           TokenCallback on_token, const Model& model);

  RequestId id() const { return id_; }
  SequenceStatus status() const { return status_; }
  void set_running() {
    status_ = SequenceStatus::running;
    admitted_at_ = Clock::now();
  }
  // When it was last admitted (its prefill started).
  Clock::time_point admitted_at() const { return admitted_at_; }
  // Back to the waiting queue (paged KV ran out of blocks): its KV is dropped and recomputed from its
  // tokens when it runs again; what it generated and its sampler's state stay.
  void preempt() {
    status_ = SequenceStatus::waiting;
    ++preemptions_;
  }
  size_t preemptions() const { return preemptions_; }
  std::span<const int32_t> prompt() const { return {tokens_.data(), prompt_length_}; }
  // Prompt + generated ids.
  std::span<const int32_t> tokens() const { return tokens_; }
  size_t generated() const { return tokens_.size() - prompt_length_; }
  // The most tokens this sequence may still generate: max_new_tokens, max_length and the context bound it.
  int64_t budget(int32_t context_length) const;

  // Beam search (num_beams > 1): the group that searches for this request, else null. Such a
  // sequence never accept()s: the engine steps its group, then calls finish_beams().
  BeamGroup* beams() const { return beams_.get(); }
  // KV rows it holds now, and the most it may hold (1 and 1 without beam search).
  size_t rows() const { return beams_ ? beams_->rows() : 1; }
  size_t max_rows() const { return beams_ ? beams_->max_rows() : 1; }

  // Picks the next token from this row's raw logits (copied into `scratch`, which the processors
  // modify), appends it, records its logprobs when asked, and streams its text. Returns whether the
  // sequence is now finished. A sampling failure (non-finite logits) finishes it with StopReason::error.
  bool accept(std::span<const float> logits, std::span<float> scratch, int32_t context_length);
  // Ends the sequence (cancelled, error, or max_tokens before any pass), flushing held-back text.
  void finish(StopReason reason, std::string error = {});
  // Ends a beam search with its results (best first): decodes their texts and streams the best one's
  // ids to the callback, as accept() would have.
  void finish_beams(std::vector<ReturnedSequence> sequences);

  // `cached`: of its tokens, those loaded from the prefix cache. Only the first prefill counts (a
  // preempted sequence's recomputation does not).
  void mark_prefill(Clock::time_point start, Clock::time_point end, size_t cached);
  // The prefix-cache blocks holding this sequence's first tokens (engine/prefix_cache).
  SequenceBlocks& kv_blocks() { return kv_blocks_; }
  const SequenceBlocks& kv_blocks() const { return kv_blocks_; }
  // Its KV rows in a paged pool (engine/paged_backend), one per row it holds.
  std::vector<PagedRowBlocks>& paged_rows() { return paged_rows_; }
  // The result, once finished (moved out: call once).
  GenerationResult take_result();

 private:
  bool is_eos(int32_t id) const;
  bool is_stop_token(int32_t id) const;
  void flush_text();
  bool has_text(int32_t id) const;
  // Feeds `id`'s text through the detokenizer and the stop-string filter: piece_ gets what is safe
  // to stream, the result's text grows by it. Returns whether a stop string was hit.
  bool stream_text(int32_t id);

  RequestId id_;
  SequenceStatus status_ = SequenceStatus::waiting;
  std::vector<int32_t> tokens_;
  size_t prompt_length_;
  GenerationOptions options_;
  std::span<const int32_t> eos_ids_;
  const Tokenizer* tokenizer_;
  Sampler sampler_;
  StopStringFilter stop_filter_;
  std::optional<StreamDecoder> detokenizer_;
  TokenCallback on_token_;
  std::string decoded_, piece_;  // per-token scratch, reused
  GenerationResult result_;
  Clock::time_point prefill_end_{};
  Clock::time_point admitted_at_{};
  std::unique_ptr<BeamGroup> beams_;
  SequenceBlocks kv_blocks_;
  std::vector<PagedRowBlocks> paged_rows_;
  size_t preemptions_ = 0;
};

}  // namespace ortlm::engine
