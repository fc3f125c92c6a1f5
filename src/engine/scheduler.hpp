#pragma once
// Which sequences the next forward pass runs (continuous batching). Requests wait in arrival order
// and are admitted whenever their rows fit beside the running ones (`max_rows` KV rows in all): a
// plain sequence takes one row, a beam search num_beams (one for its prompt's prefill, num_beams
// once it forks). Dense KV: admitted sequences are prefilled together in a pass of their own, then
// join the running ones, which decode one token per pass. Paged KV: they are admitted only when
// their blocks can be reserved, their prefill rides in the running ones' decode passes (in chunks,
// over several steps when long: they stay admitted until it is done), and a sequence may be
// preempted back to the head of the queue when blocks run out. A request wider than
// `max_rows` runs alone: its beams all have one length, so they need no padding, and share a pass even where
// padded rows cannot. Finished or aborted sequences leave at once, making room for the next.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <vector>

#include "engine/sequence.hpp"

namespace ortlm::engine {

class Scheduler {
 public:
  // `one_prefill_at_a_time`: graphs whose rows are right-padded (GroupQueryAttention) cannot give
  // rows with different cached prefixes different numbers of new tokens in one pass.
  // `prefill_apart`: prefills run in passes of their own, so after one the running sequences decode
  // before the next admission.
  explicit Scheduler(size_t max_rows, bool one_prefill_at_a_time = false, bool prefill_apart = true)
      : max_rows_(max_rows), one_prefill_at_a_time_(one_prefill_at_a_time), prefill_apart_(prefill_apart) {}

  void add(Sequence* sequence) { waiting_.push_back(sequence); }
  // Admits the waiting sequences whose rows fit now (arrival order: the first that does not fit
  // stops admission, so nobody is overtaken); returns whether any was (they need a prefill). After
  // a prefill the running sequences decode once before the next admission, so a stream of arrivals
  // cannot starve them. `fits(sequence)`, asked last and only for a sequence that will then be
  // admitted, says whether it may be admitted beyond its rows fitting (the paged KV reserves its
  // blocks there). A template: no std::function (and no allocation) per step.
  template <class Fits>
  bool admit(Fits&& fits);
  bool admit() {
    return admit([](Sequence&) { return true; });
  }
  // The sequences admitted and not yet running (being prefilled), in admission order.
  const std::vector<Sequence*>& admitted() const { return admitted_; }
  // The admitted sequences join the running ones, after them (their KV rows are appended so).
  void join();
  // The admitted sequences i with prefilled[i] join the running ones (in order); the others stay.
  void join(std::span<const uint8_t> prefilled);
  // A running or admitted sequence goes back to the head of the waiting queue (Sequence::preempt()).
  void preempt(Sequence* sequence);
  // The running sequences, in KV-row order (each holds Sequence::rows() consecutive rows).
  const std::vector<Sequence*>& running() const { return running_; }
  size_t waiting() const { return waiting_.size(); }
  // KV rows the running sequences hold now.
  size_t rows() const;
  // The most rows the running and admitted sequences may hold (beams fork).
  size_t max_rows() const;
  // Drops finished sequences from the waiting queue, the admitted and the running ones. Fills `source_rows`
  // with, for each KV row of the running sequences that remain, the current row it continues (beams name the
  // rows they fork from, BeamGroup::source_rows()), and `changed` with whether that differs from the rows as
  // they are: the caller then gathers the KV rows so. Appends the sequences dropped to `dropped`. Only the
  // running sequences are scanned, and the waiting queue once note_waiting_finished() said a waiting sequence
  // finished: a step costs nothing per queued request.
  void drop_finished(std::vector<int32_t>& source_rows, bool& changed, std::vector<Sequence*>& dropped);
  // A waiting sequence was finished (aborted, or nothing to generate).
  void note_waiting_finished() { waiting_finished_ = true; }
  bool empty() const { return waiting_.empty() && running_.empty() && admitted_.empty(); }

 private:
  size_t max_rows_;
  bool one_prefill_at_a_time_;
  bool prefill_apart_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> admitted_;
  std::vector<Sequence*> running_;
  std::vector<Sequence*> scratch_;
  bool waiting_finished_ = false;
  bool decode_due_ = false;  // a prefill ran last: the running sequences decode next
};

template <class Fits>
bool Scheduler::admit(Fits&& fits) {
  const size_t before = admitted_.size();
  if (waiting_.empty() || (prefill_apart_ && decode_due_ && !running_.empty())) {
    decode_due_ = false;
    return false;
  }
  size_t rows = max_rows();
  while (!waiting_.empty()) {
    Sequence* next = waiting_.front();
    const size_t wide = next->max_rows();
    // A request wider than the limit runs alone; the others wait for room.
    const bool alone = wide > max_rows_ && running_.empty() && admitted_.empty();
    if (rows + wide > max_rows_ && !alone) break;
    if (!fits(*next)) break;
    rows += wide;
    admitted_.push_back(next);
    waiting_.pop_front();
    next->set_running();
    if (alone || one_prefill_at_a_time_) break;
  }
  decode_due_ = admitted_.size() > before;
  return decode_due_;
}

}  // namespace ortlm::engine
