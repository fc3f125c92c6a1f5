#pragma once
// The engine's prefix cache: full blocks of tokens whose KV was computed once (a system prompt,
// earlier chat turns, a shared document) are kept in a KvBlockPool, found again by the block
// manager's chained hash, and loaded into the KV rows of a new request instead of being recomputed.
// Running sequences keep their KV in the dense cache (model::PaddedKvCache); each full block is
// stored into the pool once, when it is complete (after the prefill, then every block_size decoded
// tokens), and loaded once per request that reuses it: a copy per block, never per step.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/block_manager.hpp"
#include "engine/sequence.hpp"
#include "model/kv_block_pool.hpp"
#include "model/padded_kv_cache.hpp"

namespace ortlm::engine {

class PrefixCache {
 public:
  // A pool of about `bytes` (at least one block). Throws ortlm::Error when it does not fit in memory.
  PrefixCache(const model::IoLayout& layout, size_t bytes, int32_t block_size);

  // Takes the longest cached prefix of the sequence's tokens, keeping at least its last token to
  // compute (its logits start the generation). Returns the tokens it covers.
  int64_t acquire(Sequence& sequence);
  // Loads each sequence's cached tokens (acquired) into the rows of `kv`, just reset to their number.
  void load(std::span<Sequence* const> sequences, std::span<const int64_t> cached, model::PaddedKvCache& kv);
  // Stores the full blocks of the sequence's KV row `row` that are not cached yet.
  void store(Sequence& sequence, const model::PaddedKvCache& kv, size_t row);
  // Gives back the sequence's blocks (they stay cached for later requests until evicted).
  void release(Sequence& sequence);

  int32_t block_size() const { return pool_.block_size(); }
  BlockManager::Stats stats() const { return blocks_.stats(); }

 private:
  model::KvBlockPool pool_;
  BlockManager blocks_;
  std::vector<std::span<const int32_t>> scratch_tables_;
};

}  // namespace ortlm::engine
