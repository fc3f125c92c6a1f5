#pragma once
// Accounting of the KV block pool (model::KvBlockPool), nano-vllm's block manager: which blocks are
// free, which hold a full block of some token prefix, and how many sequences use each. A full block
// is found again by a chained hash of its tokens (xxhash: the hash of block i covers blocks 0..i, so
// equal hashes mean equal prefixes, checked against the block's stored tokens), which is how a
// request that shares a system prompt or earlier chat turns with any earlier one skips recomputing
// them. Blocks no sequence uses stay cached until a new block needs their room, oldest use first.
#include <cstdint>
#include <list>
#include <optional>
#include <span>
#include <unordered_map>
#include <vector>

namespace ortlm::engine {

using BlockHash = uint64_t;

class BlockManager {
 public:
  // Throws ortlm::Error unless both are positive.
  BlockManager(int32_t num_blocks, int32_t block_size);

  int32_t block_size() const { return block_size_; }
  int32_t num_blocks() const { return static_cast<int32_t>(blocks_.size()); }

  // The hash of a full block of `tokens` (block_size ids) following the prefix hashed `parent`
  // (kNoParent for the first block).
  static constexpr BlockHash kNoParent = 0;
  BlockHash chain_hash(BlockHash parent, std::span<const int32_t> tokens) const;

  // The cached blocks holding the longest prefix of `tokens` made of full blocks, at most
  // `max_blocks` of them, appended to `blocks` with a reference taken on each (release() gives them
  // back). Counts the lookup in the hit statistics. Returns how many blocks it found.
  // `hash` becomes the chained hash of the last block found (kNoParent if none).
  size_t acquire_prefix(std::span<const int32_t> tokens, size_t max_blocks, std::vector<int32_t>& blocks,
                        BlockHash& hash);
  // A block for new content, referenced once: a free one, else the least recently used cached
  // block that no sequence uses (forgotten by the cache). nullopt when every block is in use.
  std::optional<int32_t> allocate();
  // Makes `block` (referenced, holding the full block `tokens` whose chained hash is `hash`)
  // findable by acquire_prefix(). A block already cached under that hash wins: returns it (with a
  // reference taken) and `block` is released; else returns `block`.
  int32_t publish(int32_t block, BlockHash hash, std::span<const int32_t> tokens);
  // Takes one more reference on each block (each already referenced: a beam forking shares its blocks).
  void retain(std::span<const int32_t> blocks);
  // Blocks allocate() can hand out now: free ones and cached ones no sequence uses.
  int32_t available() const { return static_cast<int32_t>(free_.size() + lru_.size()); }
  // Drops one reference from each block. A block nobody uses stays cached (findable, evictable) if
  // it was published, and becomes free otherwise.
  void release(std::span<const int32_t> blocks);

  struct Stats {
    int32_t used = 0;    // referenced by at least one sequence
    int32_t cached = 0;  // unreferenced, published: reusable until evicted
    int32_t free = 0;
    uint64_t queried_blocks = 0, hit_blocks = 0;  // acquire_prefix(): full blocks asked for and found
    uint64_t evictions = 0;
  };
  Stats stats() const;
  int32_t references(int32_t block) const { return blocks_[static_cast<size_t>(block)].references; }

 private:
  struct Block {
    int32_t references = 0;
    std::optional<BlockHash> hash;     // set while published
    std::vector<int32_t> tokens;       // its tokens while published (to confirm a hash match)
    std::list<int32_t>::iterator lru;  // position in lru_ while unreferenced and published
  };
  void unpublish(int32_t block);

  int32_t block_size_;
  std::vector<Block> blocks_;
  std::vector<int32_t> free_;  // never published, unreferenced
  std::list<int32_t> lru_;     // unreferenced published blocks, oldest first
  std::unordered_map<BlockHash, int32_t> by_hash_;
  uint64_t queried_ = 0, hits_ = 0, evictions_ = 0;
};

// One KV row of a sequence in a paged pool (engine/paged_backend): its block table and how far it is
// computed. One reference is held on each block; its first `published` blocks are full and findable
// by their chained hash (the last one's is `last_hash`).
struct PagedRowBlocks {
  std::vector<int32_t> blocks;
  int32_t cached = 0;  // positions whose KV is in the blocks
  int32_t hit = 0;     // of those, the ones found in the prefix cache when the sequence was admitted
  size_t published = 0;
  BlockHash last_hash = BlockManager::kNoParent;
};

// The cached blocks a sequence holds (one reference on each): its first ids.size() x block_size tokens.
struct SequenceBlocks {
  std::vector<int32_t> ids;
  BlockHash last_hash = BlockManager::kNoParent;  // the chained hash of the last of them
  bool pool_full = false;                         // no room was left: nothing more is cached for it
};

}  // namespace ortlm::engine
