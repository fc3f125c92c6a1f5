#pragma once
// The paged attention work item, written once over a vector "ops" type (scalar, AVX2, AVX-512) that
// each of paged_attention_kernel.cpp, paged_attention_avx2.cpp and paged_attention_avx512.cpp defines
// in an anonymous namespace: each instantiation then has internal linkage, so code compiled for one
// instruction set never stands in for another's at link time. For the same reason nothing here calls
// an inline function of the standard library (those are emitted as shared weak symbols).
//
// Ops provides: W (lanes), V (vector type), kChunks (vectors per accumulator pass), zero(), set1(x), load(p),
// store(p, v), add, mul, fma(a, b, c) = a * b + c, max, reduce_add, reduce_max, exp (vector e^x, ~1 ulp on
// the range used), and sum_lanes(acc[W]): the vector whose lane i is the sum of acc[i]'s lanes (W dot
// products finished with one shuffle tree instead of W horizontal sums).
//
// The loop structure, per work item (one row, one KV head, up to kTileTokens tokens x group query
// heads): for each KV block, queries go in blocks of up to kQueryBlock; a block's scores are W keys
// at a time (each key's dot product in its own register, then sum_lanes), then each query's online
// softmax update, then the values are accumulated for all the block's queries at once, so every value
// vector loaded feeds kQueryBlock accumulators held in registers.
#include <cstdint>

#include "model/paged_attention_kernel.hpp"

namespace ortlm::model::paged::impl {

// scores[j * stride + k] = q_j . key_k for the nq queries and keys [0, round_up(n, W)) of a block
// (block_size is a multiple of W, so the keys read past n are still inside the block; their scores
// are never used).
template <class O>
inline void block_scores(const float* q, int32_t nq, const float* keys, int32_t n, int64_t head_size,
                         float* scores, int64_t stride) {
  for (int32_t k0 = 0; k0 < n; k0 += O::W) {
    const float* k = keys + k0 * head_size;
    for (int32_t j = 0; j < nq; ++j) {
      const float* qj = q + j * head_size;
      typename O::V acc[O::W];  // in registers only if the loops over it are unrolled whole
#pragma GCC unroll 16
      for (int i = 0; i < O::W; ++i) acc[i] = O::zero();
      for (int64_t d = 0; d < head_size; d += O::W) {
        const typename O::V qv = O::load(qj + d);
#pragma GCC unroll 16
        for (int i = 0; i < O::W; ++i) acc[i] = O::fma(qv, O::load(k + i * head_size + d), acc[i]);
      }
      O::store(scores + j * stride + k0, O::sum_lanes(acc));
    }
  }
}

// s[k] = e^(s[k] - shift) for k < n; returns their sum.
template <class O>
inline float exp_shifted(float* s, int32_t n, float shift) {
  const typename O::V minus_shift = O::set1(-shift);
  typename O::V total = O::zero();
  int32_t k = 0;
  for (; k + O::W <= n; k += O::W) {
    const typename O::V e = O::exp(O::add(O::load(s + k), minus_shift));
    O::store(s + k, e);
    total = O::add(total, e);
  }
  float sum = O::reduce_add(total);
  for (; k < n; ++k) {
    s[k] = __builtin_expf(s[k] - shift);
    sum += s[k];
  }
  return sum;
}

template <class O>
inline float max_of(const float* s, int32_t n) {
  float best = s[0];
  int32_t k = 0;
  if (n >= O::W) {
    typename O::V m = O::load(s);
    for (k = O::W; k + O::W <= n; k += O::W) m = O::max(m, O::load(s + k));
    best = O::reduce_max(m);
  }
  for (; k < n; ++k) best = s[k] > best ? s[k] : best;
  return best;
}

// acc_j = acc_j * correction[j] + sum_k p[j * stride + k] * values[k] for NQ queries, CHUNKS vectors
// of each accumulator at a time (all in registers: NQ x CHUNKS of them).
template <class O, int NQ, int CHUNKS>
inline void accumulate(float* acc, const float* correction, const float* p, int64_t stride,
                       const float* values, int32_t n, int64_t head_size) {
  for (int64_t d = 0; d < head_size; d += CHUNKS * O::W) {
    typename O::V a[NQ][CHUNKS];
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j) {
      const typename O::V c = O::set1(correction[j]);
#pragma GCC unroll 4
      for (int c2 = 0; c2 < CHUNKS; ++c2) a[j][c2] = O::mul(O::load(acc + j * head_size + d + c2 * O::W), c);
    }
    for (int32_t k = 0; k < n; ++k) {
      typename O::V w[NQ];
#pragma GCC unroll 4
      for (int j = 0; j < NQ; ++j) w[j] = O::set1(p[j * stride + k]);
#pragma GCC unroll 4
      for (int c2 = 0; c2 < CHUNKS; ++c2) {
        const typename O::V v = O::load(values + k * head_size + d + c2 * O::W);
#pragma GCC unroll 4
        for (int j = 0; j < NQ; ++j) a[j][c2] = O::fma(w[j], v, a[j][c2]);
      }
    }
#pragma GCC unroll 4
    for (int j = 0; j < NQ; ++j)
#pragma GCC unroll 4
      for (int c2 = 0; c2 < CHUNKS; ++c2) O::store(acc + j * head_size + d + c2 * O::W, a[j][c2]);
  }
}

// The instantiation for nq queries, with as many vectors per pass as head_size allows (up to
// O::kChunks, which keeps kQueryBlock x chunks accumulators within the register file).
template <class O, int NQ>
inline void accumulate_for_chunks(float* acc, const float* correction, const float* p, int64_t stride,
                                  const float* values, int32_t n, int64_t head_size) {
  const int64_t vectors = head_size / O::W;
  if (O::kChunks >= 4 && vectors % 4 == 0)
    accumulate<O, NQ, (O::kChunks >= 4 ? 4 : 1)>(acc, correction, p, stride, values, n, head_size);
  else if (O::kChunks >= 2 && vectors % 2 == 0)
    accumulate<O, NQ, (O::kChunks >= 2 ? 2 : 1)>(acc, correction, p, stride, values, n, head_size);
  else
    accumulate<O, NQ, 1>(acc, correction, p, stride, values, n, head_size);
}

template <class O>
inline void accumulate_queries(float* acc, int32_t nq, const float* correction, const float* p,
                               int64_t stride, const float* values, int32_t n, int64_t head_size) {
  switch (nq) {
    case 1:
      return accumulate_for_chunks<O, 1>(acc, correction, p, stride, values, n, head_size);
    case 2:
      return accumulate_for_chunks<O, 2>(acc, correction, p, stride, values, n, head_size);
    case 3:
      return accumulate_for_chunks<O, 3>(acc, correction, p, stride, values, n, head_size);
    default:
      return accumulate_for_chunks<O, kQueryBlock>(acc, correction, p, stride, values, n, head_size);
  }
}

// One work item: online-softmax attention of `work.count` tokens x `group` query heads over the row's
// cached and new keys up to each token's own position, one KV block at a time.
template <class O>
void attend(const AttentionArgs& a, const AttentionWork& work, float* scratch) {
  const int64_t D = a.head_size, group = a.heads / a.kv_heads, stride = a.heads * D, bs = a.block_size;
  const int32_t queries = work.count * static_cast<int32_t>(group);
  float* q = scratch;            // [queries, D] scaled queries, by token then head
  float* acc = q + queries * D;  // [queries, D] unnormalised outputs
  float* running_max = acc + queries * D;
  float* running_sum = running_max + queries;
  float* scores = running_sum + queries;  // [kQueryBlock, block_size]
  const int64_t first_token = a.row_starts[work.row] + work.first;
  const int64_t first_position = a.cached_lengths[work.row] + work.first;
  for (int32_t i = 0; i < queries; ++i) {
    const int64_t token = first_token + i / group, head = work.kv_head * group + i % group;
    const float* from = a.query + token * stride + head * D;
    for (int64_t d = 0; d < D; ++d) {
      q[i * D + d] = from[d] * a.scale;
      acc[i * D + d] = 0.0f;
    }
    running_max[i] = -__builtin_huge_valf();
    running_sum[i] = 0.0f;
  }
  const int32_t* table = a.block_tables + work.row * a.table_width;
  const int64_t last_position = first_position + work.count - 1;
  const int64_t block_floats = bs * D;
  const int64_t last_block = last_position / bs;
  for (int64_t b = 0; b <= last_block; ++b) {
    const int64_t offset = (static_cast<int64_t>(table[b]) * a.kv_heads + work.kv_head) * block_floats;
    const float* keys = a.keys + offset;
    const float* values = a.values + offset;
    // The next block is elsewhere in the pool, where the hardware prefetcher does not look: ask for
    // it while this one is computed (a decode step reads every block once, from memory).
    if (b < last_block) {
      const int64_t next = (static_cast<int64_t>(table[b + 1]) * a.kv_heads + work.kv_head) * block_floats;
      for (int64_t line = 0; line < block_floats; line += 16) {
        __builtin_prefetch(a.keys + next + line);
        __builtin_prefetch(a.values + next + line);
      }
    }
    const int64_t block_start = b * bs;
    for (int32_t i0 = 0; i0 < queries; i0 += kQueryBlock) {
      const int32_t nq = queries - i0 < kQueryBlock ? queries - i0 : kQueryBlock;
      // Keys of this block each query sees (causal); queries go by token, so the last sees the most.
      int32_t visible[kQueryBlock];
      int32_t most = 0;
      for (int32_t j = 0; j < nq; ++j) {
        const int64_t v = first_position + (i0 + j) / group - block_start + 1;
        visible[j] = static_cast<int32_t>(v < 0 ? 0 : v > bs ? bs : v);
        most = visible[j] > most ? visible[j] : most;
      }
      if (most == 0) continue;
      block_scores<O>(q + i0 * D, nq, keys, most, D, scores, bs);
      float correction[kQueryBlock];
      for (int32_t j = 0; j < nq; ++j) {
        float* s = scores + j * bs;
        const int32_t i = i0 + j, n = visible[j];
        correction[j] = 1.0f;
        if (n > 0) {
          const float block_max = max_of<O>(s, n);
          const float new_max = block_max > running_max[i] ? block_max : running_max[i];
          correction[j] = __builtin_expf(running_max[i] - new_max);
          running_sum[i] = running_sum[i] * correction[j] + exp_shifted<O>(s, n, new_max);
          running_max[i] = new_max;
        }
        for (int32_t k = n; k < most; ++k) s[k] = 0.0f;  // keys past this query's position weigh nothing
      }
      accumulate_queries<O>(acc + i0 * D, nq, correction, scores, bs, values, most, D);
    }
  }
  for (int32_t i = 0; i < queries; ++i) {
    const int64_t token = first_token + i / group, head = work.kv_head * group + i % group;
    float* to = a.output + token * stride + head * D;
    const float inverse = 1.0f / running_sum[i];
    for (int64_t d = 0; d < D; ++d) to[d] = acc[i * D + d] * inverse;
  }
}

}  // namespace ortlm::model::paged::impl
