#pragma once
// The KV cache a forward pass reads and extends, as the model runner sees it: rows (one per sequence
// of the batch) of cached tokens, presented to the graph as dense past tensors [rows, heads, width,
// head] whose padding columns are masked out. Owned by the engine, not the model, so that several
// engines (or requests) share one model. PaddedKvCache is the contiguous implementation; a block pool
// that gathers blocks into the same dense view can implement this interface too.
#include <onnxruntime_cxx_api.h>

#include <cstddef>
#include <cstdint>
#include <span>

namespace ortlm::model {

class KvCache {
 public:
  virtual ~KvCache() = default;
  virtual size_t rows() const = 0;
  // Tokens cached for `row` (its next position).
  virtual int64_t length(size_t row) const = 0;
  // Columns of the past tensors (>= every row's length; the others are padding).
  virtual int64_t width() const = 0;
  // The most columns the cache holds.
  virtual int64_t capacity() const = 0;
  // One flag per column of `row`: 1 = a cached token, 0 = padding (masked out).
  virtual std::span<const uint8_t> key_valid(size_t row) const = 0;
  // Binds every layer's past (width columns) and present (width + new_columns) tensors.
  virtual void bind(Ort::IoBinding& binding, const Ort::MemoryInfo& memory, int64_t new_columns) = 0;
  // After a run: row r gained new_tokens[r] tokens, the last ones of the new_columns appended.
  virtual void commit(std::span<const int32_t> new_tokens, int64_t new_columns) = 0;
  // Keeps the rows `source_rows` names, in that order (a row may be repeated: beams that fork).
  virtual void reorder(std::span<const int32_t> source_rows) = 0;
};

}  // namespace ortlm::model
