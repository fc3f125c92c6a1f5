#pragma once
// Which sequences the next forward pass runs. Requests wait in arrival order; when no wave is
// running, the next ones are admitted together (prefilled in one batch, then decoded together) while
// their rows fit in `max_rows`: a plain sequence takes one KV row, a beam search num_beams (one for
// its prompt's prefill, num_beams once it forks). A request wider than `max_rows` runs alone: its
// beams all have one length, so they need no padding, and share a pass even where padded rows cannot.
// Finished or aborted sequences leave the running wave at once.
#include <cstddef>
#include <deque>
#include <vector>

#include "engine/sequence.hpp"

namespace ortlm::engine {

class Scheduler {
 public:
  // `max_padded_tokens` > 0 bounds rows x longest prompt of a wave of several rows (graphs whose
  // prompts are prefilled in one pass: the pass's logits are rows x longest x vocab floats); a
  // request alone is always admitted (it is prefilled in chunks).
  explicit Scheduler(size_t max_rows, size_t max_padded_tokens = 0)
      : max_rows_(max_rows), max_padded_tokens_(max_padded_tokens) {}

  void add(Sequence* sequence) { waiting_.push_back(sequence); }
  // Admits the next wave when none is running; returns whether it did (the wave needs a prefill).
  bool admit();
  // The running sequences, in KV-row order (each holds Sequence::rows() consecutive rows).
  const std::vector<Sequence*>& running() const { return running_; }
  // KV rows the running sequences hold now, and the most they may hold.
  size_t rows() const;
  size_t max_rows() const;
  // Drops finished sequences from the waiting queue and the running wave. Fills `source_rows` with,
  // for each KV row of the running sequences that remain, the current row it continues (beams name
  // the rows they fork from, BeamGroup::source_rows()), and `changed` with whether that differs from
  // the rows as they are: the caller then gathers the KV rows so. Appends the sequences dropped to
  // `dropped`. Only the running wave is scanned, and the waiting queue once note_waiting_finished()
  // said a waiting sequence finished: a step costs nothing per queued request.
  void drop_finished(std::vector<int32_t>& source_rows, bool& changed, std::vector<Sequence*>& dropped);
  // A waiting sequence was finished (aborted, or nothing to generate).
  void note_waiting_finished() { waiting_finished_ = true; }
  bool empty() const { return waiting_.empty() && running_.empty(); }

 private:
  size_t max_rows_;
  size_t max_padded_tokens_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;
  std::vector<Sequence*> scratch_;
  bool waiting_finished_ = false;
};

}  // namespace ortlm::engine
