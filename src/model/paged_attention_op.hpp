#pragma once
// ortlm.PagedAttention, the ONNX Runtime custom operator the paged rewrite (graph/passes/
// paged_attention) puts in place of each layer's attention. Inputs: the layer's queries
// [1, T, heads * head_size], keys and values [1, T, kv_heads * head_size] of every row's new tokens
// packed (or, with key and value omitted, one stacked q/k/v projection [1, T, (heads + 2 kv_heads) *
// head_size] holding each token's query, key and value in turn), then the batch metadata all layers share
// (row_starts int32 [R + 1], cached_lengths int32 [R], block_tables int32 [R, M], the pool's handle int64
// [1]), then optionally the rotary tables cos and sin [positions, head_size / 2]: with them the operator
// applies HF's rotate-half RoPE to the queries and keys itself, at each token's position in its row (cached
// length + its index), which saves two RotaryEmbedding nodes per layer; without them queries and keys come
// rotated. Attributes layer, num_heads, kv_heads, head_size, scale. It writes the new keys and values into
// the pool's blocks in place (token at position p of row r goes to block block_tables[r][p / block_size],
// offset p % block_size) and returns the causal grouped-query attention of each token over its row's
// positions 0..p, reading every key and value through the block table. fp32 KV only.
//
// Every input is checked before anything is written: a block id outside the pool, a position beyond
// the row's table, inconsistent row starts or an unknown pool handle fail the Run() with a message
// naming the row and value, never a stray memory access. Rows must not share the blocks their new
// tokens are written to (the block manager copies a shared block before a row appends to it).
#include <onnxruntime_cxx_api.h>

#include <cstdint>

namespace ortlm::model {

// The operator, for the "ortlm" domain (model/custom_ops). Lives for the process.
const OrtCustomOp* paged_attention_op();

// Nanoseconds spent inside PagedAttention computes since the process started, all sessions and
// threads together (benchmarks read the kernel's share of a step from it).
uint64_t paged_attention_nanoseconds();

// The kernel implementation this machine uses for these sizes ("avx512", "avx2" or "scalar").
const char* paged_attention_isa(int64_t head_size, int64_t block_size);

}  // namespace ortlm::model
