#pragma once
// The memory budget of one render. Every Value alive is charged its size plus its string's heap
// block (in Value's constructors, released in its destructor), dict keys and containers are charged
// when made, and text being gathered (a block's output, a filter's result) is checked against what is
// left before it grows. So what a render holds in total is bounded, not only each string, and a
// hostile template ends in a RenderError instead of std::bad_alloc.
//
// Values are made in hundreds of places that do not see the interpreter, so the render's budget is
// installed as the thread's current one (BudgetScope) for as long as the render's values live.
#include <cstddef>
#include <cstdint>

namespace ortlm::tpl {

class MemoryBudget {
 public:
  MemoryBudget(size_t max_bytes, size_t max_string)
      : max_bytes_(max_bytes), max_string_(max_string), base_(max_bytes) {}

  // Adds `bytes` to what the render holds; fails when that would exceed the limit.
  void charge(size_t bytes);
  void release(size_t bytes) noexcept { held_ -= bytes <= held_ ? bytes : held_; }
  // Fails unless `bytes` more could be held (for transient buffers that are not charged).
  void check_headroom(size_t bytes) const;
  // Fails when a string of `bytes` is beyond the string limit, or would not fit in the budget.
  void check_string(size_t bytes) const;

  size_t held() const { return held_; }
  size_t max_string() const { return max_string_; }
  // The limit: `base` plus `input_factor` times what the render's input holds (`input_bytes`).
  void set_limit(size_t base, size_t input_factor, size_t input_bytes);
  void unlimit() { max_bytes_ = SIZE_MAX; }

 private:
  size_t held_ = 0;
  size_t max_bytes_;
  size_t max_string_;
  size_t base_ = 0, input_factor_ = 0, input_bytes_ = 0;  // how max_bytes_ was derived, for the message

  [[noreturn]] void refuse() const;
};

// Makes `budget` the calling thread's current one until the scope ends (the previous one is restored).
class BudgetScope {
 public:
  explicit BudgetScope(MemoryBudget& budget);
  ~BudgetScope();
  BudgetScope(const BudgetScope&) = delete;
  BudgetScope& operator=(const BudgetScope&) = delete;

 private:
  MemoryBudget* previous_;
};

namespace detail {
extern thread_local constinit MemoryBudget* current;
}  // namespace detail

// The thread's current budget, or null outside a render (nothing is then charged or checked).
inline MemoryBudget* current_budget() { return detail::current; }
inline void charge_memory(size_t bytes) {
  if (MemoryBudget* budget = current_budget()) budget->charge(bytes);
}
inline void check_string_size(size_t bytes) {
  if (MemoryBudget* budget = current_budget()) budget->check_string(bytes);
}
inline void check_headroom(size_t bytes) {
  if (MemoryBudget* budget = current_budget()) budget->check_headroom(bytes);
}

// Text gathered from nested evaluation (a block's output before it becomes a value): charged while
// it grows, so that deeply nested blocks cannot each hold a large pending output unaccounted.
class PendingOutput {
 public:
  explicit PendingOutput(MemoryBudget& budget) : budget_(budget) {}
  ~PendingOutput() { budget_.release(charged_); }
  PendingOutput(const PendingOutput&) = delete;
  PendingOutput& operator=(const PendingOutput&) = delete;
  // Before the text grows to `bytes`: checks the string limit and charges the growth.
  void grow_to(size_t bytes);

 private:
  MemoryBudget& budget_;
  size_t charged_ = 0;
};

}  // namespace ortlm::tpl
