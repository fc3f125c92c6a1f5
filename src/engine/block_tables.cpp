#include "engine/block_tables.hpp"

#include <cstring>

namespace ortlm::engine {

bool BlockTables::reserve(PagedRowBlocks& row, int64_t positions) {
  const auto size = static_cast<size_t>(blocks_.block_size());
  const auto cached = static_cast<size_t>(row.cached);
  if (cached % size != 0 && cached / size < row.blocks.size()) {
    int32_t& block = row.blocks[cached / size];
    if (blocks_.references(block) > 1) {  // shared with a beam forked from this row: copy on write
      const auto copy = blocks_.allocate();
      if (!copy) return false;
      copy_block(block, *copy);
      blocks_.release({&block, 1});
      block = *copy;
    }
  }
  while (row.blocks.size() * size < static_cast<size_t>(positions)) {
    const auto block = blocks_.allocate();
    if (!block) return false;
    row.blocks.push_back(*block);
  }
  return true;
}

void BlockTables::take_prefix(PagedRowBlocks& row, std::span<const int32_t> tokens, size_t max_blocks) {
  const size_t found = blocks_.acquire_prefix(tokens, max_blocks, row.blocks, row.last_hash);
  row.published = found;
  row.cached = static_cast<int32_t>(found) * blocks_.block_size();
}

void BlockTables::publish(PagedRowBlocks& row, std::span<const int32_t> tokens) {
  const auto size = static_cast<size_t>(blocks_.block_size());
  while ((row.published + 1) * size <= static_cast<size_t>(row.cached)) {
    const auto block_tokens = tokens.subspan(row.published * size, size);
    row.last_hash = blocks_.chain_hash(row.last_hash, block_tokens);
    int32_t& block = row.blocks[row.published++];
    block = blocks_.publish(block, row.last_hash, block_tokens);
  }
}

void BlockTables::fork(std::vector<PagedRowBlocks>& rows, std::span<const int32_t> sources) {
  scratch_.clear();
  for (int32_t source : sources) {
    scratch_.push_back(rows[static_cast<size_t>(source)]);
    blocks_.retain(scratch_.back().blocks);
  }
  release(rows);
  rows.swap(scratch_);
}

void BlockTables::release(std::vector<PagedRowBlocks>& rows) {
  for (PagedRowBlocks& row : rows) blocks_.release(row.blocks);
  rows.clear();
}

void BlockTables::copy_block(int32_t from, int32_t to) {
  for (size_t layer = 0; layer < pool_.layers(); ++layer)
    for (int half = 0; half < 2; ++half)
      std::memcpy(pool_.block(layer, half, to), pool_.block(layer, half, from), pool_.block_bytes());
}

}  // namespace ortlm::engine
