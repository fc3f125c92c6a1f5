#pragma once
// One forward pass over several sequences: what goes in (per row, the new tokens; which positions
// need logits) and what comes out (float32 logits rows). Row i of a batch is row i of the KV cache
// the pass reads and extends.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace ortlm::model {

// Which logits of a row's new tokens a pass returns.
enum class LogitsWanted { none, last, all };

struct ForwardRow {
  std::span<const int32_t> tokens;  // appended after what the KV row holds (may be empty: the row idles)
  LogitsWanted logits = LogitsWanted::last;
};

struct ForwardBatch {
  std::vector<ForwardRow> rows;  // one per KV row, in the KV cache's row order
};

// Logits of the requested positions, row after row, each `vocab` floats.
class Logits {
 public:
  int32_t vocab() const { return vocab_; }
  // The logits of the `k`-th requested position of batch row `row` (k = 0 when only the last).
  std::span<const float> at(size_t row, size_t k = 0) const {
    return {values_.data() + (first_[row] + k) * static_cast<size_t>(vocab_), static_cast<size_t>(vocab_)};
  }
  // How many positions of `row` have logits (0 for an idle row).
  size_t count(size_t row) const { return first_[row + 1] - first_[row]; }
  std::span<float> mutable_at(size_t row, size_t k = 0) {
    return {values_.data() + (first_[row] + k) * static_cast<size_t>(vocab_), static_cast<size_t>(vocab_)};
  }

  // Sizing, by the runner: grows storage only (no allocation once warm).
  void reset(int32_t vocab, size_t rows) {
    vocab_ = vocab;
    first_.assign(1, 0);
    first_.reserve(rows + 1);
  }
  void add_row(size_t positions) {
    first_.push_back(first_.back() + positions);
    const size_t floats = first_.back() * static_cast<size_t>(vocab_);
    if (values_.size() < floats) values_.resize(floats);
  }

 private:
  int32_t vocab_ = 0;
  std::vector<size_t> first_{0};  // first_[r] = index of row r's first logits row; first_[rows] = total
  std::vector<float> values_;
};

}  // namespace ortlm::model
