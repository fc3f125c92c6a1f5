#include "engine/scheduler.hpp"

#include <algorithm>

namespace ortlm::engine {

bool Scheduler::admit() {
  if (!running_.empty() || waiting_.empty()) return false;
  size_t longest = 0;
  while (!waiting_.empty() && running_.size() < max_rows_) {
    const size_t next_longest = std::max(longest, waiting_.front()->prompt().size());
    if (max_padded_tokens_ > 0 && !running_.empty() &&
        (running_.size() + 1) * next_longest > max_padded_tokens_)
      break;
    longest = next_longest;
    running_.push_back(waiting_.front());
    waiting_.pop_front();
    running_.back()->set_running();
  }
  return true;
}

void Scheduler::drop_finished(std::vector<int32_t>& kept_rows, bool& dropped) {
  std::erase_if(waiting_, [](const Sequence* s) { return s->status() == SequenceStatus::finished; });
  kept_rows.clear();
  scratch_.clear();
  for (size_t r = 0; r < running_.size(); ++r) {
    if (running_[r]->status() == SequenceStatus::finished) continue;
    kept_rows.push_back(static_cast<int32_t>(r));
    scratch_.push_back(running_[r]);
  }
  dropped = scratch_.size() != running_.size();
  std::swap(running_, scratch_);
}

}  // namespace ortlm::engine
