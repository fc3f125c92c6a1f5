#pragma once
// The arithmetic of the paged attention operator (model/paged_attention_op): causal grouped-query
// attention of packed query tokens over keys and values read through per-row block tables, one work
// item at a time, with an online softmax (one pass over the keys, no score matrix). Compiled three
// times (scalar, AVX2+FMA, AVX-512F: paged_attention_kernel_impl.hpp) and chosen at run time by what
// the CPU supports and the head size. Inputs were validated by the operator: nothing here checks.
#include <cstddef>
#include <cstdint>

namespace ortlm::model::paged {

// One call's tensors and geometry (fp32 KV only).
struct AttentionArgs {
  const float* query;  // [T, heads * head_size], packed rows
  float* output;       // [T, heads * head_size]
  const int32_t* row_starts;
  const int32_t* cached_lengths;
  const int32_t* block_tables;  // [rows, table_width]
  int64_t table_width;
  // The layer's keys and values in the pool: block b, KV head g, offset o at
  // base + ((b * kv_heads + g) * block_size + o) * head_size.
  const float* keys;
  const float* values;
  int64_t heads, kv_heads, head_size, block_size;
  float scale;
};

// A unit of parallel work: `count` new tokens of one row, from its `first`, for the query heads that
// share KV head `kv_head` (so each key block read serves all of them).
struct AttentionWork {
  int32_t row, kv_head, first, count;
};

// Most tokens of one row in a work item: a prefill is cut into tiles of this many queries.
inline constexpr int32_t kTileTokens = 16;
// Queries whose scores and accumulators are computed together (one read of a key or value serves them).
inline constexpr int32_t kQueryBlock = 4;

// Floats of scratch one work item needs: scaled queries and accumulators, running max and sum per
// query, a query block's scores.
inline size_t scratch_floats(const AttentionArgs& a) {
  const auto queries = static_cast<size_t>(kTileTokens * (a.heads / a.kv_heads));
  return queries * static_cast<size_t>(2 * a.head_size + 2) + static_cast<size_t>(kQueryBlock * a.block_size);
}

using AttendFn = void (*)(const AttentionArgs& args, const AttentionWork& work, float* scratch);

// The implementations; the vector ones need head_size and block_size to be multiples of their width.
void attend_scalar(const AttentionArgs& args, const AttentionWork& work, float* scratch);
void attend_avx2(const AttentionArgs& args, const AttentionWork& work, float* scratch);
void attend_avx512(const AttentionArgs& args, const AttentionWork& work, float* scratch);

// The fastest implementation this CPU runs for these sizes, and its name ("avx512", "avx2", "scalar").
AttendFn select_attend(int64_t head_size, int64_t block_size, const char** name = nullptr);

}  // namespace ortlm::model::paged
