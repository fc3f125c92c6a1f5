#pragma once
// The dense KV backend: running sequences keep their KV in the padded [rows, heads, width, head]
// tensors the exported graph reads (model::PaddedKvCache, double-buffered: decoding copies nothing).
// Admitted sequences are prefilled in a pass of their own (left-padded, in column chunks), into a
// cache of their own, then appended to the running rows; the prefix cache (engine/prefix_cache)
// copies full blocks into a pool and loads cached prefixes back. Works with every graph layout.
#include <memory>
#include <vector>

#include "engine/kv_backend.hpp"
#include "engine/prefix_cache.hpp"
#include "model/decoder.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"

namespace ortlm::engine {

class DenseBackend final : public KvBackend {
 public:
  // `options` were checked by the engine.
  DenseBackend(const model::Decoder& decoder, const EngineOptions& options);

  Scheduler make_scheduler() const override;

  void step(Scheduler& scheduler, StepSink& sink) override;
  void drop_finished(Scheduler& scheduler, std::vector<Sequence*>& dropped) override;
  void release(Sequence& sequence) override;
  void add_stats(EngineStats& stats) const override;

 private:
  void prefill(Scheduler& scheduler, StepSink& sink);
  void decode(Scheduler& scheduler, StepSink& sink);

  int32_t prefill_chunk_;
  // Rows a pass holds (1 when the graph cannot pad a batch); right padding prefills one prompt at a time.
  size_t max_rows_;
  bool one_prefill_at_a_time_;
  model::ModelRunner runner_;
  model::PaddedKvCache kv_;                    // the running sequences' rows
  model::PaddedKvCache prefill_kv_;            // the rows of the sequences being prefilled, until they join
  std::unique_ptr<PrefixCache> prefix_cache_;  // null when off
  uint64_t prompt_tokens_ = 0, cached_prompt_tokens_ = 0;
  // Scratch reused every step: no per-token allocation.
  model::ForwardBatch batch_;
  std::vector<int32_t> kept_rows_;
  std::vector<int64_t> cached_;  // per admitted sequence: prompt tokens loaded from the prefix cache
};

}  // namespace ortlm::engine
