#include "engine/paged_backend.hpp"

#include <algorithm>
#include <cstdint>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::engine {

namespace {

// The pool: room for the running sequences (EngineOptions::kv_cache_mib) plus the prefix cache.
int32_t pool_blocks(const model::IoLayout& layout, const EngineOptions& options, int32_t context_length) {
  const size_t one_context =
      model::KvBlockPool::token_bytes(layout) * static_cast<size_t>(std::max(context_length, 1));
  size_t running = static_cast<size_t>(options.kv_cache_mib) << 20;
  if (running == 0)
    running = std::clamp(one_context * static_cast<size_t>(options.max_batch_rows), one_context,
                         std::max<size_t>(size_t{1} << 30, one_context));
  const size_t bytes = running + (static_cast<size_t>(options.prefix_cache_mib) << 20);
  return model::KvBlockPool::blocks_in(layout, bytes, options.kv_block_size);
}

// Tokens of an admitted sequence still to prefill (its tokens are its prompt until it is done).
int64_t left_to_prefill(Sequence& s) {
  return static_cast<int64_t>(s.tokens().size()) - s.paged_rows()[0].cached;
}

int64_t blocks_for(int64_t positions, int32_t block_size) {
  return (positions + block_size - 1) / block_size;
}

}  // namespace

PagedBackend::PagedBackend(Ort::Session& session, const model::Decoder& decoder, const EngineOptions& options)
    : max_rows_(static_cast<size_t>(options.max_batch_rows)),
      prefill_budget_(options.prefill_chunk),
      prefix_caching_(options.prefix_cache_mib > 0),
      pool_(decoder.layout, options.kv_block_size,
            pool_blocks(decoder.layout, options, decoder.context_length)),
      blocks_(pool_.num_blocks(), options.kv_block_size),
      tables_(blocks_, pool_),
      runner_(session, decoder.layout, decoder.context_length, pool_) {}

std::string PagedBackend::pool_description() const {
  return "the paged KV pool (" + std::to_string(pool_.num_blocks()) + " blocks of " +
         std::to_string(pool_.block_size()) + " tokens)";
}

Scheduler PagedBackend::make_scheduler() const {
  return Scheduler(max_rows_, /*one_prefill_at_a_time=*/false, /*prefill_apart=*/false);
}

void PagedBackend::step(Scheduler& scheduler, StepSink& sink) {
  reserve_decode_rows(scheduler, sink);
  // New prompts are admitted while this step's token budget has room beyond the decode rows and the
  // prompts still being prefilled (admitted ones hold their blocks until they are done).
  const size_t running_rows = scheduler.rows();
  int64_t budget = int64_t{prefill_budget_} - static_cast<int64_t>(running_rows);
  for (Sequence* s : scheduler.admitted()) budget -= left_to_prefill(*s);
  scheduler.admit([&](Sequence& s) {
    if (budget <= 0 && !scheduler.admitted().empty()) return false;  // one always progresses
    if (!reserve_prompt(s, running_rows, scheduler)) return false;
    budget -= left_to_prefill(s);
    return true;
  });
  if (!scheduler.running().empty() || !scheduler.admitted().empty()) run(scheduler, sink);
}

// The newest sequence that can be recomputed: being prefilled first, then running from the back down
// to index `first` (those before it already have their blocks for this step). Null if none.
Sequence* PagedBackend::victim(const Scheduler& scheduler, size_t first) const {
  const auto recomputable = [](const Sequence* s) { return s->beams() == nullptr; };
  const auto& admitted = scheduler.admitted();
  if (const auto it = std::find_if(admitted.rbegin(), admitted.rend(), recomputable); it != admitted.rend())
    return *it;
  const auto& running = scheduler.running();
  const auto end = running.rend() - static_cast<std::ptrdiff_t>(first);
  const auto it = std::find_if(running.rbegin(), end, recomputable);
  return it == end ? nullptr : *it;
}

void PagedBackend::reserve_decode_rows(Scheduler& scheduler, StepSink& sink) {
  const auto& running = scheduler.running();
  for (size_t i = 0; i < running.size();) {
    Sequence* s = running[i];
    bool preempted = false;
    for (PagedRowBlocks& row : s->paged_rows()) {
      while (!preempted && !tables_.reserve(row, int64_t{row.cached} + 1)) {
        Sequence* const v = victim(scheduler, i);
        if (!v) {
          sink.fail({&s, 1},
                    pool_description() + " has no room left for this beam search: raise kv_cache_mib");
          break;
        }
        preempted = v == s;
        preempt(scheduler, v);
      }
      if (preempted || s->status() == SequenceStatus::finished) break;
    }
    if (!preempted) ++i;  // else running[i] is the next sequence now
  }
}

bool PagedBackend::reserve_prompt(Sequence& s, size_t running_rows, Scheduler& scheduler) {
  const auto tokens = s.tokens();
  const auto size = static_cast<int64_t>(tokens.size());
  if (blocks_for(size + 1, pool_.block_size()) > pool_.num_blocks()) {
    s.finish(StopReason::error, pool_description() + " cannot hold " + std::to_string(size + 1) +
                                    " positions: raise kv_cache_mib");
    scheduler.note_waiting_finished();
    return false;
  }
  auto& rows = s.paged_rows();
  rows.assign(1, {});
  PagedRowBlocks& row = rows[0];
  // The last token is always computed: its logits start (or resume) the generation.
  if (prefix_caching_)
    tables_.take_prefix(row, tokens, static_cast<size_t>(size - 1) / static_cast<size_t>(pool_.block_size()));
  row.hit = row.cached;
  const int64_t needed = blocks_for(size, pool_.block_size()) - static_cast<int64_t>(row.blocks.size());
  if (blocks_.available() < needed + static_cast<int64_t>(running_rows) || !tables_.reserve(row, size)) {
    tables_.release(rows);
    return false;
  }
  if (s.preemptions() == 0) {
    prompt_tokens_ += tokens.size();
    cached_prompt_tokens_ += static_cast<uint64_t>(row.cached);
  }
  return true;
}

void PagedBackend::preempt(Scheduler& scheduler, Sequence* sequence) {
  tables_.release(sequence->paged_rows());
  scheduler.preempt(sequence);
  ++preemptions_;
}

void PagedBackend::run(Scheduler& scheduler, StepSink& sink) {
  batch_.rows.clear();
  decoding_.clear();
  for (Sequence* s : scheduler.running()) {
    if (s->status() == SequenceStatus::finished) continue;  // failed for want of blocks
    decoding_.push_back(s);
    const BeamGroup* beams = s->beams();
    auto& rows = s->paged_rows();
    for (size_t r = 0; r < rows.size(); ++r)
      batch_.rows.push_back({.tokens = beams ? beams->next_input(r) : s->tokens().last(1),
                             .cached = rows[r].cached,
                             .blocks = rows[r].blocks,
                             .logits = model::LogitsWanted::last});
  }
  // Prefill chunks, admission order, as far as the token budget left by the decode rows goes. A
  // sequence being prefilled generates nothing until it is done, so its tokens() stay its prompt.
  const auto& admitted = scheduler.admitted();
  auto left =
      static_cast<size_t>(std::max<int64_t>(int64_t{prefill_budget_} - int64_t(batch_.rows.size()), 1));
  batch_row_.assign(admitted.size(), SIZE_MAX);
  for (size_t i = 0; i < admitted.size() && left > 0; ++i) {
    const auto tokens = admitted[i]->tokens();
    const PagedRowBlocks& row = admitted[i]->paged_rows()[0];
    const auto done = static_cast<size_t>(row.cached);
    const size_t n = std::min(tokens.size() - done, left);
    left -= n;
    batch_row_[i] = batch_.rows.size();
    batch_.rows.push_back(
        {.tokens = tokens.subspan(done, n),
         .cached = row.cached,
         .blocks = row.blocks,
         .logits = done + n == tokens.size() ? model::LogitsWanted::last : model::LogitsWanted::none});
  }
  if (batch_.rows.empty()) return;
  const model::Logits* logits = nullptr;
  try {
    logits = &runner_.run(batch_);
  } catch (const Error& e) {
    sink.fail(decoding_, e.what());  // they leave at the next drop_finished()
    for (size_t i = 0; i < admitted.size(); ++i)
      if (batch_row_[i] != SIZE_MAX) sink.fail({&admitted[i], 1}, e.what());
    return;
  }
  for (Sequence* s : decoding_)
    for (PagedRowBlocks& row : s->paged_rows()) {
      ++row.cached;
      if (prefix_caching_ && !s->beams()) tables_.publish(row, s->tokens());
    }
  sink.sample(decoding_, *logits, 0);
  const auto end = Sequence::Clock::now();
  prefilled_.assign(admitted.size(), 0);
  for (size_t i = 0; i < admitted.size(); ++i) {
    if (batch_row_[i] == SIZE_MAX) continue;
    Sequence* s = admitted[i];
    PagedRowBlocks& row = s->paged_rows()[0];
    row.cached += static_cast<int32_t>(batch_.rows[batch_row_[i]].tokens.size());
    if (static_cast<size_t>(row.cached) < s->tokens().size()) continue;
    if (prefix_caching_) tables_.publish(row, s->tokens());
    s->mark_prefill(s->admitted_at(), end, static_cast<size_t>(row.hit));
    sink.sample({&s, 1}, *logits, batch_row_[i]);
    prefilled_[i] = 1;
  }
  scheduler.join(prefilled_);
}

void PagedBackend::drop_finished(Scheduler& scheduler, std::vector<Sequence*>& dropped) {
  for (Sequence* s : scheduler.admitted())
    if (s->status() == SequenceStatus::finished) tables_.release(s->paged_rows());
  for (Sequence* s : scheduler.running()) {
    if (s->status() == SequenceStatus::finished) {
      tables_.release(s->paged_rows());
    } else if (BeamGroup* beams = s->beams()) {
      if (BeamGroup::moves_rows(beams->source_rows(), s->paged_rows().size()))
        tables_.fork(s->paged_rows(), beams->source_rows());
    }
  }
  bool changed = false;
  scheduler.drop_finished(kept_rows_, changed, dropped);
}

void PagedBackend::release(Sequence& sequence) { tables_.release(sequence.paged_rows()); }

void PagedBackend::add_stats(EngineStats& stats) const {
  stats.prompt_tokens += prompt_tokens_;
  stats.cached_prompt_tokens += cached_prompt_tokens_;
  stats.paged = true;
  stats.preemptions += preemptions_;
  const auto blocks = blocks_.stats();
  stats.blocks_used = blocks.used;
  stats.blocks_cached = blocks.cached;
  stats.blocks_free = blocks.free;
  stats.blocks_evicted = blocks.evictions;
}

}  // namespace ortlm::engine
