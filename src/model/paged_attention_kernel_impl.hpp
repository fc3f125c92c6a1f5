#pragma once
// The paged attention work item, written once over a vector "ops" type (scalar, AVX2, AVX-512) that
// each of paged_attention_kernel.cpp, paged_attention_avx2.cpp and paged_attention_avx512.cpp defines
// in an anonymous namespace: each instantiation then has internal linkage, so code compiled for one
// instruction set never stands in for another's at link time. For the same reason nothing here calls
// an inline function of the standard library (those are emitted as shared weak symbols).
//
// Ops provides: W (lanes), V (vector type), zero(), set1(x), load(p), store(p, v), add, mul,
// fma(a, b, c) = a * b + c, max, reduce_add, reduce_max, exp (vector e^x, ~1 ulp on the range used).
#include <cstdint>

#include "model/paged_attention_kernel.hpp"

namespace ortlm::model::paged::impl {

template <class O>
inline float dot(const float* a, const float* b, int64_t n) {
  typename O::V s0 = O::zero(), s1 = O::zero();
  int64_t i = 0;
  for (; i + 2 * O::W <= n; i += 2 * O::W) {
    s0 = O::fma(O::load(a + i), O::load(b + i), s0);
    s1 = O::fma(O::load(a + i + O::W), O::load(b + i + O::W), s1);
  }
  for (; i < n; i += O::W) s0 = O::fma(O::load(a + i), O::load(b + i), s0);
  return O::reduce_add(O::add(s0, s1));
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

// acc = acc * correction + sum_k p[k] * values[k], the accumulator held in registers per W lanes.
template <class O>
inline void accumulate(float* acc, float correction, const float* p, const float* values, int32_t n,
                       int64_t head_size) {
  const typename O::V c = O::set1(correction);
  for (int64_t d = 0; d < head_size; d += O::W) {
    typename O::V a = O::mul(O::load(acc + d), c);
    for (int32_t k = 0; k < n; ++k) a = O::fma(O::set1(p[k]), O::load(values + k * head_size + d), a);
    O::store(acc + d, a);
  }
}

// One work item: online-softmax attention of `work.count` tokens x `group` query heads over the row's
// cached and new keys up to each token's own position, one KV block at a time.
template <class O>
void attend(const AttentionArgs& a, const AttentionWork& work, float* scratch) {
  const int64_t D = a.head_size, group = a.heads / a.kv_heads, stride = a.heads * D;
  const int32_t queries = work.count * static_cast<int32_t>(group);
  float* q = scratch;            // [queries, D] scaled queries
  float* acc = q + queries * D;  // [queries, D] unnormalised outputs
  float* running_max = acc + queries * D;
  float* running_sum = running_max + queries;
  float* scores = running_sum + queries;  // [block_size]
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
  const int64_t block_floats = a.block_size * D;
  for (int64_t b = 0; b <= last_position / a.block_size; ++b) {
    const int64_t offset = (static_cast<int64_t>(table[b]) * a.kv_heads + work.kv_head) * block_floats;
    const float* keys = a.keys + offset;
    const float* values = a.values + offset;
    const int64_t block_start = b * a.block_size;
    for (int32_t i = 0; i < queries; ++i) {
      const int64_t position = first_position + i / group;
      if (position < block_start) continue;
      const int64_t visible = position - block_start + 1;
      const auto n = static_cast<int32_t>(visible < a.block_size ? visible : a.block_size);
      const float* qi = q + i * D;
      for (int32_t k = 0; k < n; ++k) scores[k] = dot<O>(qi, keys + k * D, D);
      const float block_max = max_of<O>(scores, n);
      const float new_max = block_max > running_max[i] ? block_max : running_max[i];
      const float correction = __builtin_expf(running_max[i] - new_max);
      running_sum[i] = running_sum[i] * correction + exp_shifted<O>(scores, n, new_max);
      accumulate<O>(acc + i * D, correction, scores, values, n, D);
      running_max[i] = new_max;
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
