#pragma once
// The block tables of sequences whose KV lives in a paged pool (engine/paged_backend): growing a
// row's table before a pass writes into it (copy on write when the partly filled block it writes
// into is shared by forked beams), publishing full blocks to the prefix cache, taking a cached
// prefix, forking beams (tables shared block by block, reference counted) and giving blocks back.
#include <cstdint>
#include <span>
#include <vector>

#include "engine/block_manager.hpp"
#include "model/kv_block_pool.hpp"

namespace ortlm::engine {

class BlockTables {
 public:
  BlockTables(BlockManager& blocks, model::KvBlockPool& pool) : blocks_(blocks), pool_(pool) {}

  // Makes `row` able to hold `positions` positions, the ones from row.cached on written by the next
  // pass: allocates blocks (evicting cached ones) and copies a shared partly filled block it writes
  // into. Returns false when the pool has no block left (what it allocated stays in the table).
  bool reserve(PagedRowBlocks& row, int64_t positions);
  // `row` (empty) takes the longest cached prefix of `tokens` in whole blocks, at most `max_blocks`.
  void take_prefix(PagedRowBlocks& row, std::span<const int32_t> tokens, size_t max_blocks);
  // Publishes the row's computed full blocks not yet published (`tokens`: the row's tokens, at least
  // row.cached of them). A block whose content is cached already is replaced by the cached one.
  void publish(PagedRowBlocks& row, std::span<const int32_t> tokens);
  // `rows` become, for each i, a copy of rows[sources[i]] sharing its blocks.
  void fork(std::vector<PagedRowBlocks>& rows, std::span<const int32_t> sources);
  // Gives every block of the rows back and empties them.
  void release(std::vector<PagedRowBlocks>& rows);

 private:
  void copy_block(int32_t from, int32_t to);

  BlockManager& blocks_;
  model::KvBlockPool& pool_;
  std::vector<PagedRowBlocks> scratch_;
};

}  // namespace ortlm::engine
