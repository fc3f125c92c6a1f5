#include "engine/scheduler.hpp"

#include <algorithm>

namespace ortlm::engine {

bool Scheduler::admit() {
  if (!running_.empty() || waiting_.empty()) return false;
  size_t rows = 0, longest = 0;
  while (!waiting_.empty()) {
    const Sequence* next = waiting_.front();
    const size_t wide = next->max_rows();
    if (!running_.empty() && rows + wide > max_rows_) break;
    // Each sequence is prefilled in one row (beams fork after it).
    const size_t next_longest = std::max(longest, next->prompt().size());
    if (max_padded_tokens_ > 0 && !running_.empty() &&
        (running_.size() + 1) * next_longest > max_padded_tokens_)
      break;
    rows += wide;
    longest = next_longest;
    running_.push_back(waiting_.front());
    waiting_.pop_front();
    running_.back()->set_running();
  }
  return true;
}

size_t Scheduler::rows() const {
  size_t rows = 0;
  for (const Sequence* s : running_) rows += s->rows();
  return rows;
}

size_t Scheduler::max_rows() const {
  size_t rows = 0;
  for (const Sequence* s : running_) rows += s->max_rows();
  return rows;
}

void Scheduler::drop_finished(std::vector<int32_t>& source_rows, bool& changed,
                              std::vector<Sequence*>& dropped) {
  if (waiting_finished_) {
    std::erase_if(waiting_, [&](Sequence* s) {
      if (s->status() != SequenceStatus::finished) return false;
      dropped.push_back(s);
      return true;
    });
    waiting_finished_ = false;
  }
  source_rows.clear();
  scratch_.clear();
  int32_t first = 0;  // the sequence's first row now
  for (Sequence* s : running_) {
    const auto rows = static_cast<int32_t>(s->rows());
    if (s->status() == SequenceStatus::finished) {
      dropped.push_back(s);
    } else {
      scratch_.push_back(s);
      if (BeamGroup* beams = s->beams()) {
        for (int32_t row : beams->source_rows()) source_rows.push_back(first + row);
        beams->gathered();
      } else {
        source_rows.push_back(first);
      }
    }
    first += rows;
  }
  changed = source_rows.size() != static_cast<size_t>(first);
  for (size_t r = 0; r < source_rows.size() && !changed; ++r)
    changed = source_rows[r] != static_cast<int32_t>(r);
  std::swap(running_, scratch_);
}

}  // namespace ortlm::engine
