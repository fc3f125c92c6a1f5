#include "engine/scheduler.hpp"

#include <algorithm>

namespace ortlm::engine {

void Scheduler::join() {
  running_.insert(running_.end(), admitted_.begin(), admitted_.end());
  admitted_.clear();
}

void Scheduler::join(std::span<const uint8_t> prefilled) {
  size_t kept = 0;
  for (size_t i = 0; i < admitted_.size(); ++i)
    if (prefilled[i])
      running_.push_back(admitted_[i]);
    else
      admitted_[kept++] = admitted_[i];
  admitted_.resize(kept);
}

void Scheduler::preempt(Sequence* sequence) {
  std::erase(running_, sequence);
  std::erase(admitted_, sequence);
  sequence->preempt();
  waiting_.push_front(sequence);
}

size_t Scheduler::rows() const {
  size_t rows = 0;
  for (const Sequence* s : running_) rows += s->rows();
  return rows;
}

size_t Scheduler::max_rows() const {
  size_t rows = 0;
  for (const Sequence* s : running_) rows += s->max_rows();
  for (const Sequence* s : admitted_) rows += s->max_rows();
  return rows;
}

void Scheduler::drop_finished(std::vector<int32_t>& source_rows, bool& changed,
                              std::vector<Sequence*>& dropped) {
  std::erase_if(admitted_, [&](Sequence* s) {
    if (s->status() != SequenceStatus::finished) return false;
    dropped.push_back(s);
    return true;
  });
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
  changed = BeamGroup::moves_rows(source_rows, static_cast<size_t>(first));
  std::swap(running_, scratch_);
}

}  // namespace ortlm::engine
