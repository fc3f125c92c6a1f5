#include "model/kv_block_pool.hpp"

#include <algorithm>
#include <limits>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "ortlm/error.hpp"

namespace ortlm::model {
namespace {

struct Registry {
  std::shared_mutex mutex;
  std::unordered_map<int64_t, KvBlockPool*> pools;
  int64_t last_handle = 0;
};

Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: pools may outlive static destruction order
  return *r;
}

}  // namespace

size_t KvBlockPool::token_bytes(const IoLayout& layout) {
  return layout.kv.size() * 2 * static_cast<size_t>(std::max<int64_t>(layout.kv_heads, 1)) *
         static_cast<size_t>(std::max<int64_t>(layout.head_size, 1)) * element_size(layout.kv_type);
}

int32_t KvBlockPool::blocks_in(const IoLayout& layout, size_t bytes, int32_t block_size) {
  const size_t per_block = token_bytes(layout) * static_cast<size_t>(block_size);
  return static_cast<int32_t>(
      std::clamp<size_t>(bytes / std::max<size_t>(per_block, 1), 1, std::numeric_limits<int32_t>::max()));
}

KvBlockPool* KvBlockPool::find(int64_t handle) {
  auto& r = registry();
  std::shared_lock lock(r.mutex);
  auto it = r.pools.find(handle);
  return it == r.pools.end() ? nullptr : it->second;
}

KvBlockPool::~KvBlockPool() {
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  r.pools.erase(handle_);
}

KvBlockPool::KvBlockPool(const IoLayout& layout, int32_t block_size, int32_t num_blocks)
    : block_size_(block_size),
      num_blocks_(num_blocks),
      layers_(layout.kv.size()),
      kv_heads_(layout.kv_heads),
      head_size_(layout.head_size),
      element_(element_size(layout.kv_type)),
      kv_type_(layout.kv_type) {
  if (block_size <= 0 || num_blocks <= 0)
    throw Error("the KV block pool needs positive block size and count (got " + std::to_string(block_size) +
                " x " + std::to_string(num_blocks) + ")");
  if (kv_heads_ <= 0 || head_size_ <= 0 || layers_ == 0)
    throw Error("the KV cache shape is unknown (" + std::to_string(kv_heads_) + " heads of size " +
                std::to_string(head_size_) + ")");
  size_t bytes = 0;
  if (__builtin_mul_overflow(static_cast<size_t>(kv_heads_) * static_cast<size_t>(head_size_), element_,
                             &block_bytes_) ||
      __builtin_mul_overflow(block_bytes_, static_cast<size_t>(block_size), &block_bytes_) ||
      __builtin_mul_overflow(block_bytes_, layers_ * 2 * static_cast<size_t>(num_blocks), &bytes) ||
      bytes > PTRDIFF_MAX)
    throw Error("a KV block pool of " + std::to_string(num_blocks) + " blocks of " +
                std::to_string(block_size) + " tokens does not fit in memory");
  bytes = (bytes + 63) / 64 * 64;
  data_.reset(static_cast<std::byte*>(std::aligned_alloc(64, bytes)));
  if (!data_) throw Error("cannot allocate " + std::to_string(bytes >> 20) + " MiB for the KV block pool");
  auto& r = registry();
  std::unique_lock lock(r.mutex);
  handle_ = ++r.last_handle;
  r.pools.emplace(handle_, this);
}

}  // namespace ortlm::model
