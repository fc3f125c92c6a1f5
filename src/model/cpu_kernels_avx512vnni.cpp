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

// The int8 way: the nibbles unpacked once, then for each row exact integer dot products with 4 broadcast
// bytes of its quantized A (low nibbles: rows k..k+3, high: k+4..k+7).
struct Int8Way {
  using Dot = __m512i;
  static Dot zero() { return _mm512_setzero_si512(); }
  template <int R>
  static void add_rows(const Int4MatMulArgs& args, int64_t row, int64_t kk, __m512i bytes, Dot* dot) {
    const __m512i nibble = _mm512_set1_epi8(0x0F);
    const __m512i low = _mm512_and_si512(bytes, nibble);
    const __m512i high = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), nibble);
    for (int r = 0; r < R; ++r) {
      const int8_t* a = args.a_levels + (row + r) * args.k + kk;
      dot[r] = _mm512_dpbusd_epi32(dot[r], low, _mm512_set1_epi32(four_bytes(a)));
      dot[r] = _mm512_dpbusd_epi32(dot[r], high, _mm512_set1_epi32(four_bytes(a + 4)));
    }
  }
  static __m512 as_float(Dot dot) { return _mm512_cvtepi32_ps(dot); }
  static float a_scale(const Int4MatMulArgs& args, int64_t at) { return args.a_scales[at]; }
};

// The float way: each level converted to float and multiplied with A as it is, in row order.
struct FloatWay {
  using Dot = __m512;
  static Dot zero() { return _mm512_setzero_ps(); }
  template <int R>
  static void add_rows(const Int4MatMulArgs& args, int64_t row, int64_t kk, __m512i bytes, Dot* dot) {
    const __m512i nibble = _mm512_set1_epi32(0x0F);
    for (int j = 0; j < 8; ++j) {  // byte j % 4 of each lane; its low nibble, then its high one
      const __m512 w = _mm512_cvtepi32_ps(_mm512_and_si512(
          _mm512_srli_epi32(bytes, static_cast<unsigned>((j % 4) * 8 + (j / 4) * 4)), nibble));
      for (int r = 0; r < R; ++r)
        dot[r] = _mm512_fmadd_ps(w, _mm512_set1_ps(args.a[(row + r) * args.k + kk + j]), dot[r]);
    }
  }
  static __m512 as_float(Dot dot) { return dot; }
  static float a_scale(const Int4MatMulArgs&, int64_t) { return 1.0f; }
};

// R rows of A (a prompt's, a batch's), one group at a time: each 64-byte load of weights serves all R.
template <int R, typename Way>
void rows_tile(const Int4MatMulArgs& args, int64_t row, int64_t group_begin, int64_t group_end) {
  const int64_t blocks = args.k / args.block, subs = args.block / 8;
  for (int64_t g = group_begin; g < group_end; ++g) {
    const uint8_t* levels = args.levels + g * args.k * 8;
    __m512 sum[R];
    for (int r = 0; r < R; ++r) sum[r] = _mm512_setzero_ps();
    for (int64_t b = 0; b < blocks; ++b) {
      typename Way::Dot dot[R];
      for (int r = 0; r < R; ++r) dot[r] = Way::zero();
      for (int64_t s = 0; s < subs; ++s) {
        const int64_t kk = b * args.block + s * 8;
        Way::template add_rows<R>(args, row, kk, _mm512_loadu_si512(levels + kk * 8), dot);
      }
      for (int r = 0; r < R; ++r) {
        const int64_t at = (row + r) * blocks + b;
        sum[r] = add_block(args, (g * blocks + b) * kGroup, Way::as_float(dot[r]), Way::a_scale(args, at),
                           args.a_sums[at], sum[r]);
      }
    }
    const int64_t columns = std::min(kGroup, args.n - g * kGroup);
    for (int r = 0; r < R; ++r) store_columns(args.out + (row + r) * args.n + g * kGroup, sum[r], columns);
  }
}

// All rows, kMaxRows at a time and then the rest, a group at a time: a group's weights (K * 8 bytes)
// stay in L1 while every tile of rows reads them, so a batch reads the matrix from memory once.
template <typename Way>
void all_rows(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  for (int64_t g = group_begin; g < group_end; ++g) {
    int64_t row = 0;
    for (; row + kMaxRows <= args.rows; row += kMaxRows) rows_tile<kMaxRows, Way>(args, row, g, g + 1);
    switch (args.rows - row) {
      case 3:
        rows_tile<3, Way>(args, row, g, g + 1);
        break;
      case 2:
        rows_tile<2, Way>(args, row, g, g + 1);
        break;
      case 1:
        rows_tile<1, Way>(args, row, g, g + 1);
        break;
      default:
        break;
    }
  }
}

}  // namespace

void int4_matmul_int8_avx512vnni(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  if (args.rows == 1) {  // a decode step: groups side by side
    int64_t g = group_begin;
    for (; g + kGroupsPerPass <= group_end; g += kGroupsPerPass) int8_groups<kGroupsPerPass>(args, 0, g);
    for (; g < group_end; ++g) int8_groups<1>(args, 0, g);
  } else {
    all_rows<Int8Way>(args, group_begin, group_end);
  }
}

void int4_matmul_float_avx512vnni(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  all_rows<FloatWay>(args, group_begin, group_end);
}

}  // namespace ortlm::model::kernels
#endif
