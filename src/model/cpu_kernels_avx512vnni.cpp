// The AVX-512 VNNI kernels of the Int4MatMul operator (built with -mavx512f -mavx512bw -mavx512vnni;
// only called when the CPU has them). One 64-byte load holds 8 rows of K for a group's 16 columns:
// its low nibbles are rows k..k+3 and its high nibbles rows k+4..k+7, 4 bytes per column, which is
// what vpdpbusd multiplies with 4 broadcast bytes of A and sums into each column's int32 lane.
// A decode step reads each weight once, so the kernels are bound by memory: they prefetch ahead in
// each group's stream, and rows of a prompt share one unpacking of the weights.
#include "model/int4_matmul_kernel.hpp"

#if defined(__x86_64__) && defined(__AVX512F__) && defined(__AVX512VNNI__) && defined(__AVX512BW__)
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"  // GCC bug 105593, as in cpu_kernels_avx512.cpp
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>

namespace ortlm::model::kernels {
namespace {

constexpr int64_t kGroup = 16;
constexpr int kMaxRows = 4;         // rows of A sharing one unpacking of the weights
constexpr int kGroupsPerPass = 4;   // groups read side by side for one row (independent dot chains)
constexpr int64_t kPrefetch = 256;  // bytes ahead in each group's levels

int32_t four_bytes(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void store_columns(float* out, __m512 v, int64_t columns) {
  if (columns == kGroup)
    _mm512_storeu_ps(out, v);
  else
    _mm512_mask_storeu_ps(out, static_cast<__mmask16>((1u << columns) - 1), v);
}

// The zero points of a group's block as floats (8 when the model has none).
__m512 zero_points(const Int4MatMulArgs& args, int64_t at) {
  if (!args.zero_points) return _mm512_set1_ps(8.0f);
  return _mm512_cvtepi32_ps(
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(args.zero_points + at))));
}

// sum += scale · a_scale · (dot - zero point · a_sum), the block's share of one row's output.
__m512 add_block(const Int4MatMulArgs& args, int64_t at, __m512 dot, float a_scale, float a_sum, __m512 sum) {
  const __m512 corrected = _mm512_fnmadd_ps(zero_points(args, at), _mm512_set1_ps(a_sum), dot);
  return _mm512_fmadd_ps(corrected, _mm512_mul_ps(_mm512_loadu_ps(args.scales + at), _mm512_set1_ps(a_scale)),
                         sum);
}

// One row of A (a decode step): G groups side by side, with separate sums for the low and high
// nibbles, so that 2G independent vpdpbusd chains hide its latency.
template <int G>
void int8_groups(const Int4MatMulArgs& args, int64_t row, int64_t group) {
  const int64_t blocks = args.k / args.block, subs = args.block / 8;
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  const int8_t* a = args.a_levels + row * args.k;
  const uint8_t* levels[G];
  __m512 sum[G];
  for (int i = 0; i < G; ++i) {
    levels[i] = args.levels + (group + i) * args.k * 8;
    sum[i] = _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < blocks; ++b) {
    __m512i low_dot[G], high_dot[G];
    for (int i = 0; i < G; ++i) low_dot[i] = high_dot[i] = _mm512_setzero_si512();
    for (int64_t s = 0; s < subs; ++s) {
      const int64_t kk = b * args.block + s * 8;
      const __m512i a_low = _mm512_set1_epi32(four_bytes(a + kk));
      const __m512i a_high = _mm512_set1_epi32(four_bytes(a + kk + 4));
      for (int i = 0; i < G; ++i) {
        const uint8_t* at = levels[i] + kk * 8;
        _mm_prefetch(reinterpret_cast<const char*>(at + kPrefetch), _MM_HINT_T0);
        const __m512i bytes = _mm512_loadu_si512(at);
        low_dot[i] = _mm512_dpbusd_epi32(low_dot[i], _mm512_and_si512(bytes, nibble), a_low);
        high_dot[i] =
            _mm512_dpbusd_epi32(high_dot[i], _mm512_and_si512(_mm512_srli_epi16(bytes, 4), nibble), a_high);
      }
    }
    const float a_scale = args.a_scales[row * blocks + b], a_sum = args.a_sums[row * blocks + b];
    for (int i = 0; i < G; ++i)
      sum[i] =
          add_block(args, ((group + i) * blocks + b) * kGroup,
                    _mm512_cvtepi32_ps(_mm512_add_epi32(low_dot[i], high_dot[i])), a_scale, a_sum, sum[i]);
  }
  for (int i = 0; i < G; ++i)
    store_columns(args.out + row * args.n + (group + i) * kGroup, sum[i],
                  std::min(kGroup, args.n - (group + i) * kGroup));
}

// R rows of A (a prompt's), one group at a time: the weights are unpacked once for all R.
template <int R>
void int8_rows(const Int4MatMulArgs& args, int64_t row, int64_t group_begin, int64_t group_end) {
  const int64_t blocks = args.k / args.block, subs = args.block / 8;
  const __m512i nibble = _mm512_set1_epi8(0x0F);
  for (int64_t g = group_begin; g < group_end; ++g) {
    const uint8_t* levels = args.levels + g * args.k * 8;
    __m512 sum[R];
    for (int r = 0; r < R; ++r) sum[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      __m512i dot[R];
      for (int r = 0; r < R; ++r) dot[r] = _mm512_setzero_si512();
      for (int64_t s = 0; s < subs; ++s) {
        const int64_t kk = b * args.block + s * 8;
        const __m512i bytes = _mm512_loadu_si512(levels + kk * 8);
        const __m512i low = _mm512_and_si512(bytes, nibble);
        const __m512i high = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), nibble);
        for (int r = 0; r < R; ++r) {
          const int8_t* a = args.a_levels + (row + r) * args.k + kk;
          dot[r] = _mm512_dpbusd_epi32(dot[r], low, _mm512_set1_epi32(four_bytes(a)));
          dot[r] = _mm512_dpbusd_epi32(dot[r], high, _mm512_set1_epi32(four_bytes(a + 4)));
        }
      }
      for (int r = 0; r < R; ++r)
        sum[r] =
            add_block(args, (g * blocks + b) * kGroup, _mm512_cvtepi32_ps(dot[r]),
                      args.a_scales[(row + r) * blocks + b], args.a_sums[(row + r) * blocks + b], sum[r]);
    }
    const int64_t columns = std::min(kGroup, args.n - g * kGroup);
    for (int r = 0; r < R; ++r) store_columns(args.out + (row + r) * args.n + g * kGroup, sum[r], columns);
  }
}

// The float way, R rows at a time: each level converted to float and multiplied with A in row order.
template <int R>
void float_rows(const Int4MatMulArgs& args, int64_t row, int64_t group_begin, int64_t group_end) {
  const int64_t blocks = args.k / args.block, subs = args.block / 8;
  const __m512i nibble = _mm512_set1_epi32(0x0F);
  for (int64_t g = group_begin; g < group_end; ++g) {
    const uint8_t* levels = args.levels + g * args.k * 8;
    __m512 sum[R];
    for (int r = 0; r < R; ++r) sum[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      __m512 dot[R];
      for (int r = 0; r < R; ++r) dot[r] = _mm512_setzero_ps();
      for (int64_t s = 0; s < subs; ++s) {
        const int64_t kk = b * args.block + s * 8;
        const __m512i bytes = _mm512_loadu_si512(levels + kk * 8);
        for (int j = 0; j < 8; ++j) {  // byte j % 4 of each lane; its low nibble, then its high one
          const __m512 w = _mm512_cvtepi32_ps(_mm512_and_si512(
              _mm512_srli_epi32(bytes, static_cast<unsigned>((j % 4) * 8 + (j / 4) * 4)), nibble));
          for (int r = 0; r < R; ++r)
            dot[r] = _mm512_fmadd_ps(w, _mm512_set1_ps(args.a[(row + r) * args.k + kk + j]), dot[r]);
        }
      }
      for (int r = 0; r < R; ++r)
        sum[r] = add_block(args, (g * blocks + b) * kGroup, dot[r], 1.0f, args.a_sums[(row + r) * blocks + b],
                           sum[r]);
    }
    const int64_t columns = std::min(kGroup, args.n - g * kGroup);
    for (int r = 0; r < R; ++r) store_columns(args.out + (row + r) * args.n + g * kGroup, sum[r], columns);
  }
}

// All rows, kMaxRows at a time and then the rest, a group at a time: a group's weights (K * 8 bytes)
// stay in L1 while every tile of rows reads them, so a batch reads the matrix from memory once.
template <template <int> class Tile>
void all_rows(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  for (int64_t g = group_begin; g < group_end; ++g) {
    int64_t row = 0;
    for (; row + kMaxRows <= args.rows; row += kMaxRows) Tile<kMaxRows>::run(args, row, g, g + 1);
    switch (args.rows - row) {
      case 3:
        Tile<3>::run(args, row, g, g + 1);
        break;
      case 2:
        Tile<2>::run(args, row, g, g + 1);
        break;
      case 1:
        Tile<1>::run(args, row, g, g + 1);
        break;
      default:
        break;
    }
  }
}

template <int R>
struct Int8Tile {
  static void run(const Int4MatMulArgs& args, int64_t row, int64_t group_begin, int64_t group_end) {
    if constexpr (R == 1) {
      int64_t g = group_begin;
      for (; g + kGroupsPerPass <= group_end; g += kGroupsPerPass) int8_groups<kGroupsPerPass>(args, row, g);
      for (; g < group_end; ++g) int8_groups<1>(args, row, g);
    } else {
      int8_rows<R>(args, row, group_begin, group_end);
    }
  }
};
template <int R>
struct FloatTile {
  static void run(const Int4MatMulArgs& args, int64_t row, int64_t group_begin, int64_t group_end) {
    float_rows<R>(args, row, group_begin, group_end);
  }
};

}  // namespace

void int4_matmul_int8_avx512vnni(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  if (args.rows == 1)
    Int8Tile<1>::run(args, 0, group_begin, group_end);  // groups side by side
  else
    all_rows<Int8Tile>(args, group_begin, group_end);
}

void int4_matmul_float_avx512vnni(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  all_rows<FloatTile>(args, group_begin, group_end);
}

}  // namespace ortlm::model::kernels
#endif
