#include "engine/dense_backend.hpp"

#include <algorithm>

#include "ortlm/error.hpp"

namespace ortlm::engine {

DenseBackend::DenseBackend(const model::Decoder& decoder, const EngineOptions& options)
    : prefill_chunk_(options.prefill_chunk),
      max_rows_(decoder.layout.padded_batches ? static_cast<size_t>(options.max_batch_rows) : 1),
      one_prefill_at_a_time_(decoder.layout.padding == model::Padding::right),
      runner_(decoder),
      kv_(decoder.layout),
      prefill_kv_(decoder.layout) {
  if (options.prefix_cache_mib > 0)
    prefix_cache_ = std::make_unique<PrefixCache>(
        decoder.layout, static_cast<size_t>(options.prefix_cache_mib) << 20, options.kv_block_size);
}

Scheduler DenseBackend::make_scheduler() const { return Scheduler(max_rows_, one_prefill_at_a_time_); }

void DenseBackend::step(Scheduler& scheduler, StepSink& sink) {
  if (scheduler.admit())
    prefill(scheduler, sink);
  else if (!scheduler.running().empty())
    decode(scheduler, sink);
}

void DenseBackend::drop_finished(Scheduler& scheduler, std::vector<Sequence*>& dropped) {
  bool changed = false;
  scheduler.drop_finished(kept_rows_, changed, dropped);
  if (kept_rows_.empty())
    kv_.clear();
  else if (changed)
    kv_.reorder(kept_rows_);
}

void DenseBackend::prefill(Scheduler& scheduler, StepSink& sink) {
  const auto& group = scheduler.admitted();
  // Each row's cached prefix is loaded; the rest of its tokens are left-padded to the longest and
  // fed in column chunks, every row's last token in the last chunk.
  cached_.assign(group.size(), 0);
  size_t longest = 0;
  int64_t widest = 0;
  for (size_t r = 0; r < group.size(); ++r) {
    if (prefix_cache_) cached_[r] = prefix_cache_->acquire(*group[r]);
    longest = std::max(longest, group[r]->tokens().size() - static_cast<size_t>(cached_[r]));
    widest = std::max(widest, cached_[r]);
    prompt_tokens_ += group[r]->tokens().size();
    cached_prompt_tokens_ += static_cast<uint64_t>(cached_[r]);
  }
  const auto start = Sequence::Clock::now();
  try {
    prefill_kv_.reset(group.size(), widest + static_cast<int64_t>(longest) + 1);
    if (widest > 0) prefix_cache_->load(group, cached_, prefill_kv_);
    // Right-padded rows (GroupQueryAttention) are prefilled one sequence at a time: see model::Padding.
    const size_t chunk = std::max<size_t>(1, static_cast<size_t>(prefill_chunk_) / group.size());
    batch_.rows.resize(group.size());
    const model::Logits* logits = nullptr;
    for (size_t begin = 0; begin < longest; begin += chunk) {
      const size_t end = std::min(longest, begin + chunk);
      for (size_t r = 0; r < group.size(); ++r) {
        const auto rest = group[r]->tokens().subspan(static_cast<size_t>(cached_[r]));
        const size_t pad = longest - rest.size();
        const size_t from = std::clamp(begin, pad, pad + rest.size());
        const size_t to = std::clamp(end, pad, pad + rest.size());
        batch_.rows[r] = {rest.subspan(from - pad, to - from),
                          end == longest ? model::LogitsWanted::last : model::LogitsWanted::none};
      }
      logits = &runner_.run(batch_, prefill_kv_);
    }
    const auto end = Sequence::Clock::now();
    for (size_t r = 0; r < group.size(); ++r)
      group[r]->mark_prefill(start, end, static_cast<size_t>(cached_[r]));
    if (prefix_cache_)
      for (size_t r = 0; r < group.size(); ++r) prefix_cache_->store(*group[r], prefill_kv_, r);
    sink.sample(group, *logits, 0);
    kv_.append(prefill_kv_);
  } catch (const Error& e) {
    sink.fail(group, e.what());  // they leave at the next drop_finished()
    return;
  }
  scheduler.join();
}

void DenseBackend::decode(Scheduler& scheduler, StepSink& sink) {
  batch_.rows.resize(scheduler.rows());
  size_t r = 0;
  for (const auto* s : scheduler.running()) {
    if (const BeamGroup* beams = s->beams())
      for (size_t beam = 0; beam < beams->rows(); ++beam)
        batch_.rows[r++] = {beams->next_input(beam), model::LogitsWanted::last};
    else
      batch_.rows[r++] = {s->tokens().last(1), model::LogitsWanted::last};
  }
  try {
    const auto& logits = runner_.run(batch_, kv_);
    if (prefix_cache_) {  // blocks completed by this pass's tokens (before the new ones are appended)
      size_t row = 0;
      for (auto* s : scheduler.running()) {
        if (!s->beams()) prefix_cache_->store(*s, kv_, row);
        row += s->rows();
      }
    }
    sink.sample(scheduler.running(), logits, 0);
  } catch (const Error& e) {
    sink.fail(scheduler.running(), e.what());
  }
}

void DenseBackend::release(Sequence& sequence) {
  if (prefix_cache_) prefix_cache_->release(sequence);
}

void DenseBackend::add_stats(EngineStats& stats) const {
  stats.prompt_tokens += prompt_tokens_;
  stats.cached_prompt_tokens += cached_prompt_tokens_;
  if (!prefix_cache_) return;
  const auto blocks = prefix_cache_->stats();
  stats.blocks_used = blocks.used;
  stats.blocks_cached = blocks.cached;
  stats.blocks_free = blocks.free;
  stats.blocks_evicted = blocks.evictions;
}

}  // namespace ortlm::engine
