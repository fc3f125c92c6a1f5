#pragma once
// The contiguous KV cache: per layer, dense [rows, kv_heads, width, head_size] tensors (GenAI's
// combined layout: [2, rows, ...]) in two preallocated buffer sets used in turn. ONNX Runtime reads
// the past from one set and writes the present (past + new columns) into the other, which is the
// next step's past unchanged in memory: decoding never copies KV. Rows of different lengths are
// left-padded: each row's new tokens take the last columns of a pass, earlier ones are masked out
// (GroupQueryAttention graphs: right-padded, each row's keys a prefix of its own length).
// Copies happen only between passes, when the rows change: reorder() (beams forking, rows leaving;
// one gather of the rows kept, which also drops the padding columns no row needs any more),
// append() (newly prefilled rows joining the running ones), and the transfers to and from a
// KvBlockPool (the prefix cache: cached blocks loaded into a row, full blocks stored once).
#include <array>
#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "model/io_layout.hpp"
#include "model/kv_block_pool.hpp"
#include "model/kv_cache.hpp"

namespace ortlm::model {

class PaddedKvCache final : public KvCache {
 public:
  explicit PaddedKvCache(const IoLayout& layout);
  // Empties the cache and makes room for `rows` rows of `capacity` columns, and for reorder() to
  // grow them to `max_rows` (beams forking from one prefilled row; 0 = `rows`). Reallocates only when
  // max_rows x capacity grows. Throws ortlm::Error when that does not fit in memory.
  void reset(size_t rows, int64_t capacity, size_t max_rows = 0);
  // Empties the cache (no rows), keeping its buffers.
  void clear();

  size_t rows() const override { return rows_; }
  int64_t length(size_t row) const override { return lengths_[row]; }
  int64_t width() const override { return width_; }
  int64_t capacity() const override { return capacity_; }
  std::span<const uint8_t> key_valid(size_t row) const override {
    return {valid_.data() + row * static_cast<size_t>(capacity_), static_cast<size_t>(width_)};
  }
  // Grows the buffers (amortized, keeping the content) when width + new_columns exceeds the capacity.
  void bind(Ort::IoBinding& binding, const Ort::MemoryInfo& memory, int64_t new_columns) override;
  void commit(std::span<const int32_t> new_tokens, int64_t new_columns) override;
  void reorder(std::span<const int32_t> source_rows) override;

  // Appends the rows of `from` (a cache of the same layout) after these rows, each row's last token
  // in the last column (left padding) or its tokens first (right padding). The rows here are copied
  // only when `from` is wider or the layout is combined; buffers grow as needed.
  void append(const PaddedKvCache& from);
  // Fills the rows of a cache just reset() with cached tokens: row r gets tokens[r] tokens from
  // blocks[r] of `pool` (block_size tokens each, the last block possibly partly used).
  void load(std::span<const std::span<const int32_t>> blocks, std::span<const int64_t> tokens,
            const KvBlockPool& pool);
  // Copies tokens [first_token, first_token + blocks.size() x block_size) of `row` into `blocks`.
  void store(size_t row, int64_t first_token, std::span<const int32_t> blocks, KvBlockPool& pool) const;

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
  size_t head_bytes() const;  // one token of one head
  // Token `column` of `head` in `row` of a set laid out as rows x width.
  std::byte* at(int set, size_t tensor, size_t half, size_t rows, int64_t width, size_t row, int64_t head,
                int64_t column) const;
  // The pool block of `tensor`, `half` (the pool keeps keys and values of every layer apart).
  std::byte* pool_slot(const KvBlockPool& pool, size_t tensor, size_t half, int32_t block, int64_t head,
                       int64_t offset) const;
  // Allocates both buffer sets for row_columns (nullopt: overflowed); returns the tensor stride.
  size_t allocate(std::array<Buffer, 2>& sets, std::optional<size_t> row_columns, size_t max_rows,
                  int64_t capacity) const;
  // Makes room for rows x columns (and valid flags for max(rows) x columns), keeping the content.
  void reserve(size_t rows, int64_t columns);
  // Copies row `from_row` of `source` (laid out source_rows x source_width) into row `to_row` of the
  // next set (laid out rows x width), its columns moved by `shift`.
  void copy_row(const PaddedKvCache& source, size_t source_rows, size_t from_row, int set_to, size_t rows,
                int64_t width, size_t to_row, int64_t shift, int64_t first_column, int64_t columns) const;

  const IoLayout& layout_;
  size_t tensors_per_set_ = 0;        // 2 per layer (separate) or 1 (combined)
  size_t tensor_stride_ = 0;          // bytes reserved per tensor
  size_t allocated_row_columns_ = 0;  // rows x columns the buffers hold
  size_t max_rows_ = 0;               // the most rows until the next reset (valid_ holds that many)
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
