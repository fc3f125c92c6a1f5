// The block manager's accounting: references, chained-hash prefix hits and misses, LRU eviction of
// unreferenced cached blocks, and no block leaked after many random requests with cancellations.
// Oracle: a plain model of the expected state kept by the test (which prefixes were published).
#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "engine/block_manager.hpp"
#include "ortlm/error.hpp"

namespace ortlm::engine {
namespace {

constexpr int32_t kBlock = 4;

std::vector<int32_t> iota_tokens(size_t n, int32_t first = 0) {
  std::vector<int32_t> t(n);
  std::iota(t.begin(), t.end(), first);
  return t;
}

// Allocates and publishes every full block of `tokens`, the way the engine caches a prompt.
std::vector<int32_t> cache_prompt(BlockManager& m, const std::vector<int32_t>& tokens) {
  std::vector<int32_t> blocks;
  BlockHash hash = BlockManager::kNoParent;
  for (size_t b = 0; b + kBlock <= tokens.size(); b += kBlock) {
    const std::span<const int32_t> span(tokens.data() + b, kBlock);
    hash = m.chain_hash(hash, span);
    auto id = m.allocate();
    if (!id) break;
    blocks.push_back(m.publish(*id, hash, span));
  }
  return blocks;
}

TEST(BlockManager, RefusesEmptyPools) {
  EXPECT_THROW(BlockManager(0, 4), Error);
  EXPECT_THROW(BlockManager(4, 0), Error);
}

TEST(BlockManager, HitsExactlyTheSharedFullBlocks) {
  BlockManager m(16, kBlock);
  const auto prompt = iota_tokens(10);  // 2 full blocks + 2 tokens
  auto blocks = cache_prompt(m, prompt);
  ASSERT_EQ(blocks.size(), 2u);
  m.release(blocks);

  std::vector<int32_t> found;
  BlockHash hash = 0;
  // Same first 9 tokens, different 10th: both full blocks hit.
  auto other = prompt;
  other[9] = 99;
  EXPECT_EQ(m.acquire_prefix(other, 8, found, hash), 2u);
  EXPECT_EQ(found, blocks);
  EXPECT_EQ(hash,
            m.chain_hash(m.chain_hash(BlockManager::kNoParent, {prompt.data(), 4}), {prompt.data() + 4, 4}));
  m.release(found);
  found.clear();
  // A change inside the second block: only the first hits (the chain breaks there).
  other = prompt;
  other[5] = 99;
  EXPECT_EQ(m.acquire_prefix(other, 8, found, hash), 1u);
  EXPECT_EQ(found.front(), blocks.front());
  m.release(found);
  found.clear();
  // A change in the first block: the second block's tokens alone never hit (hash is chained).
  other = prompt;
  other[0] = 99;
  EXPECT_EQ(m.acquire_prefix(other, 8, found, hash), 0u);
  EXPECT_EQ(hash, BlockManager::kNoParent);
  // max_blocks bounds the lookup (the engine keeps the last prompt token to compute).
  EXPECT_EQ(m.acquire_prefix(prompt, 1, found, hash), 1u);
  m.release(found);
  const auto s = m.stats();
  EXPECT_EQ(s.hit_blocks, 2u + 1u + 0u + 1u);
  EXPECT_EQ(s.queried_blocks, 2u + 2u + 2u + 1u);
}

TEST(BlockManager, ReferencesKeepBlocksFromEviction) {
  BlockManager m(3, kBlock);
  const auto a = iota_tokens(8), b = iota_tokens(8, 100);
  auto blocks_a = cache_prompt(m, a);  // 2 blocks, referenced
  ASSERT_EQ(blocks_a.size(), 2u);
  auto blocks_b = cache_prompt(m, b);  // only 1 block left
  ASSERT_EQ(blocks_b.size(), 1u);
  EXPECT_FALSE(m.allocate().has_value());  // all three referenced: nothing to evict
  EXPECT_EQ(m.stats().used, 3);
  m.release(blocks_a);
  EXPECT_EQ(m.stats().cached, 2);
  // The next allocation evicts a's oldest block (its first), so a's prefix no longer hits at all.
  auto fresh = m.allocate();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(*fresh, blocks_a[0]);
  EXPECT_EQ(m.stats().evictions, 1u);
  std::vector<int32_t> found;
  BlockHash hash = 0;
  EXPECT_EQ(m.acquire_prefix(a, 8, found, hash), 0u);
  m.release({&*fresh, 1});
  m.release(blocks_b);
  EXPECT_THROW(m.release(blocks_b), Error);  // one release too many
}

TEST(BlockManager, UsingACachedBlockRefreshesItsAge) {
  BlockManager m(2, kBlock);
  const auto a = iota_tokens(4), b = iota_tokens(4, 50);
  auto ba = cache_prompt(m, a), bb = cache_prompt(m, b);
  m.release(ba);
  m.release(bb);  // LRU order: a, b
  std::vector<int32_t> found;
  BlockHash hash = 0;
  ASSERT_EQ(m.acquire_prefix(a, 1, found, hash), 1u);
  m.release(found);  // now b is the oldest
  auto fresh = m.allocate();
  ASSERT_TRUE(fresh.has_value());
  EXPECT_EQ(*fresh, bb[0]);
  found.clear();
  EXPECT_EQ(m.acquire_prefix(a, 1, found, hash), 1u);
  m.release(found);
  m.release({&*fresh, 1});
}

TEST(BlockManager, PublishingAnAlreadyCachedBlockReturnsTheCachedOne) {
  BlockManager m(4, kBlock);
  const auto a = iota_tokens(4);
  auto first = cache_prompt(m, a);
  auto second = cache_prompt(m, a);  // computed twice (two requests prefilled together)
  ASSERT_EQ(first, second);
  EXPECT_EQ(m.references(first[0]), 2);
  EXPECT_EQ(m.stats().free, 3);  // the duplicate went back to the free list
  m.release(first);
  m.release(second);
  EXPECT_EQ(m.stats().cached, 1);
}

// 1,000 random requests (shared prefixes, random lengths), some cancelled half way: at the end no
// block is referenced, and the blocks are all either free or cached.
TEST(BlockManager, NoBlockLeaksAfterManyRandomRequests) {
  BlockManager m(64, kBlock);
  std::mt19937 rng(7);
  std::vector<std::vector<int32_t>> held;
  const std::vector<std::vector<int32_t>> systems = {iota_tokens(12), iota_tokens(20, 500),
                                                     iota_tokens(8, 900)};
  for (int request = 0; request < 1000; ++request) {
    std::vector<int32_t> tokens = systems[rng() % systems.size()];
    const size_t extra = rng() % 20;
    for (size_t i = 0; i < extra; ++i) tokens.push_back(static_cast<int32_t>(rng() % 50));
    std::vector<int32_t> blocks;
    BlockHash hash = BlockManager::kNoParent;
    const size_t hit = m.acquire_prefix(tokens, tokens.size() / kBlock, blocks, hash);
    for (size_t b = hit; (b + 1) * kBlock <= tokens.size(); ++b) {
      const std::span<const int32_t> span(tokens.data() + b * kBlock, kBlock);
      hash = m.chain_hash(hash, span);
      auto id = m.allocate();
      if (!id) break;
      blocks.push_back(m.publish(*id, hash, span));
    }
    held.push_back(std::move(blocks));
    // Requests finish or are cancelled in random order.
    while (!held.empty() && (held.size() > 6 || rng() % 3 == 0)) {
      const size_t i = rng() % held.size();
      m.release(held[i]);
      held.erase(held.begin() + static_cast<ptrdiff_t>(i));
    }
  }
  for (auto& blocks : held) m.release(blocks);
  const auto s = m.stats();
  EXPECT_EQ(s.used, 0);
  EXPECT_EQ(s.free + s.cached, 64);
  for (int32_t b = 0; b < 64; ++b) EXPECT_EQ(m.references(b), 0);
  EXPECT_GT(s.hit_blocks, 1000u);  // the system prompts were found again
}

}  // namespace
}  // namespace ortlm::engine
