#include "engine/prefix_cache.hpp"

#include <algorithm>

namespace ortlm::engine {

PrefixCache::PrefixCache(const model::IoLayout& layout, size_t bytes, int32_t block_size)
    : pool_(layout, block_size, model::KvBlockPool::blocks_in(layout, bytes, block_size)),
      blocks_(pool_.num_blocks(), block_size) {}

int64_t PrefixCache::acquire(Sequence& sequence) {
  SequenceBlocks& held = sequence.kv_blocks();
  const auto tokens = sequence.tokens();
  const size_t computable = tokens.size() - 1;  // the last token is always computed
  const size_t found = blocks_.acquire_prefix(tokens, computable / static_cast<size_t>(block_size()),
                                              held.ids, held.last_hash);
  return static_cast<int64_t>(found) * block_size();
}

void PrefixCache::load(std::span<Sequence* const> sequences, std::span<const int64_t> cached,
                       model::PaddedKvCache& kv) {
  scratch_tables_.clear();
  for (const Sequence* s : sequences) scratch_tables_.emplace_back(s->kv_blocks().ids);
  kv.load(scratch_tables_, cached, pool_);
}

void PrefixCache::store(Sequence& sequence, const model::PaddedKvCache& kv, size_t row) {
  SequenceBlocks& held = sequence.kv_blocks();
  const auto size = static_cast<size_t>(block_size());
  const auto tokens = sequence.tokens();
  while (!held.pool_full && (held.ids.size() + 1) * size <= static_cast<size_t>(kv.length(row))) {
    const auto block = blocks_.allocate();
    if (!block) {
      held.pool_full = true;
      break;
    }
    const size_t first = held.ids.size() * size;
    const auto block_tokens = tokens.subspan(first, size);
    kv.store(row, static_cast<int64_t>(first), {&*block, 1}, pool_);
    held.last_hash = blocks_.chain_hash(held.last_hash, block_tokens);
    held.ids.push_back(blocks_.publish(*block, held.last_hash, block_tokens));
  }
}

void PrefixCache::release(Sequence& sequence) {
  SequenceBlocks& held = sequence.kv_blocks();
  blocks_.release(held.ids);
  held = {};
}

}  // namespace ortlm::engine
