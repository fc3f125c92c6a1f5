#pragma once
// The paged KV backend: every sequence's KV lives in blocks of one model::KvBlockPool, read and
// written in place by ortlm's paged-attention operator (model/paged_runner) through each row's
// block table (engine/block_tables). A step is one packed pass (more when prefills exceed the token
// budget): one token for every running row, then the prompts of the sequences admitted this step,
// in chunks of what the budget (EngineOptions::prefill_chunk) leaves. Admission reserves a prompt's
// blocks (after the prefix cache's hits); when a running row needs a block and none is left, the
// newest sequence is preempted: its blocks are given back (those it published stay cached) and it
// waits at the head of the queue, to be recomputed from its tokens, mostly from the cache.
#include <string>
#include <vector>

#include "engine/block_manager.hpp"
#include "engine/block_tables.hpp"
#include "engine/kv_backend.hpp"
#include "model/decoder.hpp"
#include "model/kv_block_pool.hpp"
#include "model/paged_runner.hpp"

namespace ortlm::engine {

class PagedBackend final : public KvBackend {
 public:
  // `session` is the model's paged session (Model::paged_session()); `options` were checked by the
  // engine. Throws ortlm::Error when the pool does not fit in memory.
  PagedBackend(Ort::Session& session, const model::Decoder& decoder, const EngineOptions& options);

  // Packed passes: every row's prompt is prefilled beside the decoding rows, several at a time.
  Scheduler make_scheduler() const override;

  void step(Scheduler& scheduler, StepSink& sink) override;
  void drop_finished(Scheduler& scheduler, std::vector<Sequence*>& dropped) override;
  void release(Sequence& sequence) override;
  void add_stats(EngineStats& stats) const override;

 private:
  // Gives every running row a block for its next token, preempting the newest sequences (beam
  // searches are not preempted) when the pool is full; fails a sequence nothing can make room for.
  void reserve_decode_rows(Scheduler& scheduler, StepSink& sink);
  // Admission test: takes the sequence's cached prefix and reserves blocks for the rest of its
  // tokens, keeping one block per running row free; false (nothing held) when they do not fit.
  bool reserve_prompt(Sequence& sequence, size_t running_rows, Scheduler& scheduler);
  void preempt(Scheduler& scheduler, Sequence* sequence);
  Sequence* victim(const Scheduler& scheduler, size_t first) const;
  std::string pool_description() const;  // for errors: "the paged KV pool (N blocks of B tokens)"
  // The step's passes: decode rows and prefill chunks packed together.
  void run(Scheduler& scheduler, StepSink& sink);

  size_t max_rows_;
  int32_t prefill_budget_;
  bool prefix_caching_;
  model::KvBlockPool pool_;  // before the runner, which keeps a reference
  BlockManager blocks_;
  BlockTables tables_;
  model::PagedRunner runner_;
  uint64_t prompt_tokens_ = 0, cached_prompt_tokens_ = 0, preemptions_ = 0;
  // Scratch reused every step.
  model::PagedBatch batch_;
  std::vector<Sequence*> decoding_;  // the sequences whose rows lead the pass
  std::vector<size_t> batch_row_;    // per admitted sequence: its row in the pass, or SIZE_MAX
  std::vector<uint8_t> prefilled_;   // per admitted sequence: its prefill is done
  std::vector<int32_t> kept_rows_;
};

}  // namespace ortlm::engine
