#pragma once
// The contiguous KV cache: per layer, dense [rows, kv_heads, width, head_size] tensors (GenAI's
// combined layout: [2, rows, ...]) in two preallocated buffer sets used in turn. ONNX Runtime reads
// the past from one set and writes the present (past + new columns) into the other, which is the
// next step's past unchanged in memory: decoding never copies KV. Rows of different lengths are
// left-padded: each row's new tokens take the last columns of a pass, earlier ones are masked out.
// Only reorder() (beams forking, finished rows leaving) copies, one gather of the rows it keeps.
#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "model/io_layout.hpp"
#include "model/kv_cache.hpp"

namespace ortlm::model {

class PaddedKvCache final : public KvCache {
 public:
  explicit PaddedKvCache(const IoLayout& layout);
  // Empties the cache and makes room for `rows` rows of `capacity` columns, and for reorder() to
  // grow them to `max_rows` (beams forking from one prefilled row; 0 = `rows`). Reallocates only when
  // max_rows x capacity grows. Throws ortlm::Error when that does not fit in memory.
  void reset(size_t rows, int64_t capacity, size_t max_rows = 0);

  size_t rows() const override { return rows_; }
  int64_t length(size_t row) const override { return lengths_[row]; }
  int64_t width() const override { return width_; }
  int64_t capacity() const override { return capacity_; }
  std::span<const uint8_t> key_valid(size_t row) const override {
    return {valid_.data() + row * static_cast<size_t>(capacity_), static_cast<size_t>(width_)};
  }
  void bind(Ort::IoBinding& binding, const Ort::MemoryInfo& memory, int64_t new_columns) override;
  void commit(std::span<const int32_t> new_tokens, int64_t new_columns) override;
  void reorder(std::span<const int32_t> source_rows) override;

 private:
  struct Buffer {
    std::unique_ptr<std::byte, void (*)(void*)> data{nullptr, std::free};
  };
  // A tensor shape without heap allocation (the decode loop builds several per token).
  struct Shape {
    std::array<int64_t, 5> dims{};
    size_t rank = 0;
    size_t elements() const;
  };
  Shape shape(size_t rows, int64_t width) const;
  std::byte* tensor_base(int set, size_t tensor) const;
  size_t halves() const { return layout_.kv_layout == KvLayout::combined ? 2 : 1; }

  const IoLayout& layout_;
  size_t tensors_per_set_ = 0;        // 2 per layer (separate) or 1 (combined)
  size_t tensor_stride_ = 0;          // bytes reserved per tensor
  size_t allocated_row_columns_ = 0;  // rows x columns the buffers hold
  size_t max_rows_ = 0;               // the most rows reorder() may make until the next reset
  int64_t capacity_ = 0;
  size_t rows_ = 0;
  int64_t width_ = 0;
  int current_ = 0;  // which of the two sets holds the past
  Buffer sets_[2];
  std::vector<int64_t> lengths_;  // per row
  std::vector<uint8_t> valid_;    // [max_rows, capacity] column flags
  std::vector<int64_t> scratch_lengths_;
  std::vector<uint8_t> scratch_valid_;
};

}  // namespace ortlm::model
