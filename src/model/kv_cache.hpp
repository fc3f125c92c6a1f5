#pragma once
// Preallocated KV-cache buffers for one sequence. ONNX Runtime reads past[len] and writes
// present[len + n]; two buffer sets are used in turn (the present of one step is, unchanged in
// memory, the past of the next), so ortlm itself never copies KV data.
#include <onnxruntime_cxx_api.h>

#include <array>
#include <cstddef>
#include <memory>
#include <vector>

#include "model/io_layout.hpp"

namespace ortlm::model {

class KvCache {
 public:
  explicit KvCache(const IoLayout& layout);
  // Makes room for `capacity` tokens (reallocates only when growing) and empties the cache.
  void reset(int64_t capacity);
  int64_t capacity() const { return capacity_; }
  int64_t length() const { return length_; }

  // Binds every layer's past (current length) and present (length + new_tokens) tensors.
  void bind(Ort::IoBinding& binding, const Ort::MemoryInfo& memory, int64_t new_tokens);
  // After a run: the present just written becomes the past.
  void advance(int64_t new_tokens);

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
  Shape shape(int64_t length) const;
  std::byte* tensor_base(int set, size_t tensor) const;

  const IoLayout& layout_;
  size_t tensors_per_set_ = 0;  // 2 per layer (separate) or 1 (combined)
  size_t tensor_stride_ = 0;    // bytes reserved per tensor at the current capacity
  int64_t capacity_ = 0;
  int64_t length_ = 0;
  int current_ = 0;  // which of the two sets holds the past
  Buffer sets_[2];
};

}  // namespace ortlm::model
