#include "engine/block_manager.hpp"

// Header-only xxhash: nothing to link, for the library and for whoever links it statically.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::engine {

BlockManager::BlockManager(int32_t num_blocks, int32_t block_size) : block_size_(block_size) {
  if (num_blocks <= 0 || block_size <= 0)
    throw Error("the KV block manager needs positive block count and size (got " +
                std::to_string(num_blocks) + " x " + std::to_string(block_size) + ")");
  blocks_.resize(static_cast<size_t>(num_blocks));
  free_.reserve(blocks_.size());
  for (int32_t b = num_blocks - 1; b >= 0; --b) free_.push_back(b);  // hands out block 0 first
}

BlockHash BlockManager::chain_hash(BlockHash parent, std::span<const int32_t> tokens) const {
  const BlockHash h = XXH3_64bits_withSeed(tokens.data(), tokens.size_bytes(), parent);
  return h == kNoParent ? 1 : h;  // kNoParent never names a block
}

size_t BlockManager::acquire_prefix(std::span<const int32_t> tokens, size_t max_blocks,
                                    std::vector<int32_t>& blocks, BlockHash& last_hash) {
  const size_t full = std::min(max_blocks, tokens.size() / static_cast<size_t>(block_size_));
  queried_ += full;
  BlockHash hash = kNoParent;
  last_hash = kNoParent;
  size_t found = 0;
  for (; found < full; ++found) {
    const auto block_tokens =
        tokens.subspan(found * static_cast<size_t>(block_size_), static_cast<size_t>(block_size_));
    hash = chain_hash(hash, block_tokens);
    const auto it = by_hash_.find(hash);
    if (it == by_hash_.end()) break;
    Block& block = blocks_[static_cast<size_t>(it->second)];
    if (!std::equal(block.tokens.begin(), block.tokens.end(), block_tokens.begin(), block_tokens.end()))
      break;
    if (block.references++ == 0) lru_.erase(block.lru);
    blocks.push_back(it->second);
    last_hash = hash;
  }
  hits_ += found;
  return found;
}

std::optional<int32_t> BlockManager::allocate() {
  int32_t id = -1;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else if (!lru_.empty()) {
    id = lru_.front();
    lru_.pop_front();
    unpublish(id);
    ++evictions_;
  } else {
    return std::nullopt;
  }
  blocks_[static_cast<size_t>(id)].references = 1;
  return id;
}

void BlockManager::unpublish(int32_t id) {
  Block& block = blocks_[static_cast<size_t>(id)];
  if (block.hash) by_hash_.erase(*block.hash);
  block.hash.reset();
  block.tokens.clear();
}

int32_t BlockManager::publish(int32_t id, BlockHash hash, std::span<const int32_t> tokens) {
  if (const auto it = by_hash_.find(hash); it != by_hash_.end() && it->second != id) {
    Block& cached = blocks_[static_cast<size_t>(it->second)];
    if (std::equal(cached.tokens.begin(), cached.tokens.end(), tokens.begin(), tokens.end())) {
      if (cached.references++ == 0) lru_.erase(cached.lru);
      const int32_t winner = it->second;
      release({&id, 1});
      return winner;
    }
    unpublish(it->second);  // a 64-bit collision: the newer block takes the hash
  }
  Block& block = blocks_[static_cast<size_t>(id)];
  if (block.hash && *block.hash != hash) by_hash_.erase(*block.hash);
  block.hash = hash;
  block.tokens.assign(tokens.begin(), tokens.end());
  by_hash_[hash] = id;
  return id;
}

void BlockManager::retain(std::span<const int32_t> ids) {
  for (int32_t id : ids) {
    Block& block = blocks_[static_cast<size_t>(id)];
    if (block.references <= 0) throw Error("KV block " + std::to_string(id) + " retained while unused");
    ++block.references;
  }
}

void BlockManager::release(std::span<const int32_t> ids) {
  for (int32_t id : ids) {
    Block& block = blocks_[static_cast<size_t>(id)];
    if (block.references <= 0)
      throw Error("KV block " + std::to_string(id) + " released more often than taken");
    if (--block.references > 0) continue;
    if (block.hash) {
      lru_.push_back(id);
      block.lru = std::prev(lru_.end());
    } else {
      free_.push_back(id);
    }
  }
}

BlockManager::Stats BlockManager::stats() const {
  Stats s;
  s.cached = static_cast<int32_t>(lru_.size());
  s.free = static_cast<int32_t>(free_.size());
  s.used = num_blocks() - s.cached - s.free;
  s.queried_blocks = queried_;
  s.hit_blocks = hits_;
  s.evictions = evictions_;
  return s;
}

}  // namespace ortlm::engine
