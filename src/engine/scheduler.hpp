#pragma once
// Which sequences the next forward pass runs. Requests wait in arrival order; when no wave is
// running, up to `max_rows` of them are admitted together (prefilled in one batch, then decoded
// together). Finished or aborted sequences leave the running wave at once.
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
  // The running sequences, in KV-row order.
  const std::vector<Sequence*>& running() const { return running_; }
  // Drops finished sequences from the waiting queue and the running wave; fills `kept_rows` with the
  // KV rows of the running sequences that remain, and `dropped` with whether any running one left.
  void drop_finished(std::vector<int32_t>& kept_rows, bool& dropped);
  bool empty() const { return waiting_.empty() && running_.empty(); }

 private:
  size_t max_rows_;
  size_t max_padded_tokens_;
  std::deque<Sequence*> waiting_;
  std::vector<Sequence*> running_;
  std::vector<Sequence*> scratch_;
};

}  // namespace ortlm::engine
