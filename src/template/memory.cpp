#include "template/memory.hpp"

#include <cstdio>
#include <string>

#include "template/value.hpp"

namespace ortlm::tpl {

namespace detail {
thread_local constinit MemoryBudget* current = nullptr;
}  // namespace detail

namespace {

// "256 MiB", "1.5 MiB", "12 KiB".
std::string size_text(size_t bytes) {
  char text[32];
  double mib = double(bytes) / double(1 << 20);
  if (bytes < (1u << 20))
    std::snprintf(text, sizeof text, "%.0f KiB", double(bytes) / 1024);
  else
    std::snprintf(text, sizeof text, mib < 10 && bytes % (1 << 20) ? "%.1f MiB" : "%.0f MiB", mib);
  return text;
}

}  // namespace

void MemoryBudget::charge(size_t bytes) {
  if (bytes > max_bytes_ - held_) refuse();  // held_ <= max_bytes_ always, so this cannot wrap
  held_ += bytes;
}

void MemoryBudget::check_headroom(size_t bytes) const {
  if (bytes > max_bytes_ - held_) refuse();
}

void MemoryBudget::check_string(size_t bytes) const {
  if (bytes > max_string_) fail("rendered output exceeds " + std::to_string(max_string_) + " bytes");
  check_headroom(bytes);
}

void MemoryBudget::set_limit(size_t base, size_t input_factor, size_t input_bytes) {
  base_ = base;
  input_factor_ = input_factor;
  input_bytes_ = input_bytes;
  size_t extra = 0;
  if (__builtin_mul_overflow(input_factor, input_bytes, &extra) ||
      __builtin_add_overflow(base, extra, &max_bytes_))
    max_bytes_ = SIZE_MAX;
  if (max_bytes_ < held_) max_bytes_ = held_;
}

void MemoryBudget::refuse() const {
  std::string limit = size_text(base_);
  if (input_factor_ > 0)
    limit += " + " + std::to_string(input_factor_) + " x the input's " + size_text(input_bytes_);
  fail("the render would hold more than " + size_text(max_bytes_) + " (limit: " + limit + ")");
}

BudgetScope::BudgetScope(MemoryBudget& budget) : previous_(detail::current) { detail::current = &budget; }
BudgetScope::~BudgetScope() { detail::current = previous_; }

void PendingOutput::grow_to(size_t bytes) {
  budget_.check_string(bytes);
  if (bytes > charged_) {
    budget_.charge(bytes - charged_);
    charged_ = bytes;
  }
}

// Value's accounting: its own size plus its string's heap block, charged to the thread's budget.
size_t Value::footprint() const {
  constexpr size_t kInlineCapacity = 15;  // libstdc++'s small-string buffer (others: a harmless overcount)
  return sizeof(Value) + (s.capacity() > kInlineCapacity ? s.capacity() + 1 : 0);
}

void Value::hold(size_t bytes) {
  MemoryBudget* budget = detail::current;
  if (!budget) return;
  if (bytes > held_)
    budget->charge(bytes - held_);
  else
    budget->release(held_ - bytes);
  held_ = bytes;
}

void Value::release() noexcept {
  if (MemoryBudget* budget = detail::current) budget->release(held_);
  held_ = 0;
}

Value& Value::operator=(const Value& other) {
  if (this != &other) {
    hold(other.footprint());  // first: a refusal leaves this value as it was
    ValueFields::operator=(other);
  }
  return *this;
}

Value& Value::operator=(Value&& other) noexcept {
  if (this != &other) {
    if (held_) release();
    ValueFields::operator=(std::move(other));
    held_ = std::exchange(other.held_, 0);
  }
  return *this;
}

}  // namespace ortlm::tpl
