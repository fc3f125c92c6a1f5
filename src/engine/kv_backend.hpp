#pragma once
// Where the engine's forward passes keep the KV cache: the dense rows the exported graph reads
// (engine/dense_backend) or a paged block pool read in place by ortlm's attention operator
// (engine/paged_backend). A backend admits the waiting sequences its memory allows, runs each step's
// passes over the scheduler's sequences and hands their logits to the engine (StepSink) to sample;
// the engine keeps the requests, sampling, streaming and results.
#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "engine/scheduler.hpp"
#include "engine/sequence.hpp"
#include "model/forward_batch.hpp"
#include "ortlm/engine_options.hpp"

namespace ortlm::engine {

// The engine's side of a step.
class StepSink {
 public:
  // Samples each row of `sequences` from `logits`, their rows in order from row `first_row` (a beam
  // search steps over its rows).
  virtual void sample(std::span<Sequence* const> sequences, const model::Logits& logits,
                      size_t first_row) = 0;
  // Ends the sequences with StopReason::error.
  virtual void fail(std::span<Sequence* const> sequences, const std::string& why) = 0;

 protected:
  ~StepSink() = default;
};

class KvBackend {
 public:
  virtual ~KvBackend() = default;
  // The scheduler its steps expect: how many rows run at once, and how prompts are prefilled.
  virtual Scheduler make_scheduler() const = 0;
  // Admits the waiting sequences that fit and runs the step's forward passes.
  virtual void step(Scheduler& scheduler, StepSink& sink) = 0;
  // Finished sequences leave the scheduler (appended to `dropped`); the KV rows of those that stay
  // follow their rows as they are now (beams forked or pruned).
  virtual void drop_finished(Scheduler& scheduler, std::vector<Sequence*>& dropped) = 0;
  // A sequence leaves the engine: whatever KV memory it still holds is given back.
  virtual void release(Sequence& sequence) = 0;
  // Adds what it counts (prompt tokens, cached tokens, blocks, preemptions) to `stats`.
  virtual void add_stats(EngineStats& stats) const = 0;
};

}  // namespace ortlm::engine
