#pragma once
// Physical KV storage in fixed-size blocks, shared by every sequence of an engine: per layer, keys and
// values as [num_blocks, kv_heads, block_size, head_size] elements of the graph's KV type (GenAI's
// combined layout is stored as separate keys and values too). A block holds block_size consecutive
// tokens of one sequence; which block holds what is the engine's block manager's business
// (engine/block_manager). Heads are outermost within a block so that attention reads one head's
// keys of a block as one contiguous run.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "model/io_layout.hpp"

namespace ortlm::model {

class KvBlockPool {
 public:
  // Throws ortlm::Error when the shape is unknown or the pool does not fit in memory.
  KvBlockPool(const IoLayout& layout, int32_t block_size, int32_t num_blocks);
  ~KvBlockPool();
  // Registered by address: neither copied nor moved.
  KvBlockPool(const KvBlockPool&) = delete;
  KvBlockPool& operator=(const KvBlockPool&) = delete;

  // Bytes of KV one token takes with this layout (keys and values of every layer), and how many
  // blocks of `block_size` tokens fit in `bytes` (at least 1): how engines size their pools.
  static size_t token_bytes(const IoLayout& layout);
  static int32_t blocks_in(const IoLayout& layout, size_t bytes, int32_t block_size);

  // This pool's handle (> 0, never reused in the process).
  int64_t handle() const { return handle_; }
  // The live pool with this handle, or nullptr. The pool must outlive every Run() given its handle.
  static KvBlockPool* find(int64_t handle);
  ONNXTensorElementDataType kv_type() const { return kv_type_; }

  int32_t block_size() const { return block_size_; }
  int32_t num_blocks() const { return num_blocks_; }
  size_t layers() const { return layers_; }
  int64_t kv_heads() const { return kv_heads_; }
  int64_t head_size() const { return head_size_; }
  size_t element_bytes() const { return element_; }
  // Bytes of one block of one layer's keys (or values).
  size_t block_bytes() const { return block_bytes_; }
  // Block `block` of layer `layer`: its keys (half 0) or values (half 1).
  std::byte* block(size_t layer, int half, int32_t block) const {
    return data_.get() + ((layer * 2 + static_cast<size_t>(half)) * static_cast<size_t>(num_blocks_) +
                          static_cast<size_t>(block)) *
                             block_bytes_;
  }
  // One token's head vector inside a block: head_size elements.
  std::byte* slot(size_t layer, int half, int32_t block, int64_t head, int64_t offset) const {
    return this->block(layer, half, block) +
           static_cast<size_t>(head * block_size_ + offset) * static_cast<size_t>(head_size_) * element_;
  }

 private:
  int32_t block_size_, num_blocks_;
  size_t layers_;
  int64_t kv_heads_, head_size_;
  size_t element_, block_bytes_;
  ONNXTensorElementDataType kv_type_;
  int64_t handle_ = 0;
  std::unique_ptr<std::byte, void (*)(void*)> data_{nullptr, std::free};
};

}  // namespace ortlm::model
