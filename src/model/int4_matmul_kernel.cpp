// The scalar Int4MatMul kernels (the reference the vector ones are tested against), the quantization of
// A, and the run-time choice of kernels.
#include "model/int4_matmul_kernel.hpp"

#include <algorithm>
#include <cmath>

namespace ortlm::model::kernels {
namespace {

constexpr int64_t kGroup = 16;

// Level of column c (of its group) at row kk of K, from the group's levels.
int level_at(const uint8_t* group_levels, int64_t c, int64_t kk) {
  const int64_t sub = kk / 8, j = kk % 8;
  const uint8_t byte = group_levels[sub * 64 + c * 4 + (j % 4)];
  return j < 4 ? (byte & 0x0F) : (byte >> 4);
}

// Every row's output columns of groups [group_begin, group_end): per block and column,
// out += scale · a_scale · (dot - zero point · a_sum), with `dot` the block's dot product of the levels
// and A (exact in the int8 way; the vector kernels' fused steps, in their order).
template <typename Dot>
void run_groups(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end, Dot dot) {
  const int64_t blocks = args.k / args.block;
  for (int64_t g = group_begin; g < group_end; ++g) {
    const uint8_t* levels = args.levels + g * args.k * 8;
    const int64_t columns = std::min(kGroup, args.n - g * kGroup);
    for (int64_t r = 0; r < args.rows; ++r) {
      float acc[kGroup] = {};
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t at = (g * blocks + b) * kGroup;
        const float a_scale = args.a_scales ? args.a_scales[r * blocks + b] : 1.0f;
        for (int64_t c = 0; c < kGroup; ++c) {
          const float zero = args.zero_points ? static_cast<float>(args.zero_points[at + c]) : 8.0f;
          const float corrected = std::fma(-zero, args.a_sums[r * blocks + b], dot(r, b, levels, c));
          acc[c] = std::fma(corrected, args.scales[at + c] * a_scale, acc[c]);
        }
      }
      for (int64_t c = 0; c < columns; ++c) args.out[r * args.n + g * kGroup + c] = acc[c];
    }
  }
}

}  // namespace

void int4_matmul_int8_scalar(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  run_groups(args, group_begin, group_end, [&](int64_t r, int64_t b, const uint8_t* levels, int64_t c) {
    int32_t dot = 0;
    for (int64_t kk = b * args.block; kk < (b + 1) * args.block; ++kk)
      dot += level_at(levels, c, kk) * args.a_levels[r * args.k + kk];
    return static_cast<float>(dot);
  });
}

void int4_matmul_float_scalar(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end) {
  run_groups(args, group_begin, group_end, [&](int64_t r, int64_t b, const uint8_t* levels, int64_t c) {
    // The vector kernel sums each block's 8-row chunks in turn, a row at a time.
    float dot = 0;
    for (int64_t kk = b * args.block; kk < (b + 1) * args.block; ++kk)
      dot = std::fma(static_cast<float>(level_at(levels, c, kk)), args.a[r * args.k + kk], dot);
    return dot;
  });
}

void quantize_rows_int8(const float* a, int64_t rows, int64_t k, int64_t block, int8_t* levels, float* scales,
                        float* sums) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t start = 0; start < k; start += block) {
      const float* x = a + r * k + start;
      float amax = 0;
      for (int64_t i = 0; i < block; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float scale = amax / 127.0f, inverse = amax > 0 ? 127.0f / amax : 0.0f;
      int32_t sum = 0;
      for (int64_t i = 0; i < block; ++i) {
        // nearbyint rounds half to even, as the vector conversion does; |x · inverse| <= 127.
        const auto q = static_cast<int32_t>(std::nearbyint(x[i] * inverse));
        levels[r * k + start + i] = static_cast<int8_t>(q);
        sum += q;
      }
      scales[(r * k + start) / block] = scale;
      sums[(r * k + start) / block] = static_cast<float>(sum);
    }
}

void block_sums(const float* a, int64_t rows, int64_t k, int64_t block, float* sums) {
  for (int64_t i = 0; i < rows * k / block; ++i) {
    float sum = 0;
    for (int64_t j = 0; j < block; ++j) sum += a[i * block + j];
    sums[i] = sum;
  }
}

Int4MatMulKernels select_int4_matmul(bool* fast) {
  Int4MatMulKernels chosen{int4_matmul_int8_scalar, int4_matmul_float_scalar, "scalar"};
  if (fast) *fast = false;
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vnni")) {
    chosen = {int4_matmul_int8_avx512vnni, int4_matmul_float_avx512vnni, "avx512vnni"};
    if (fast) *fast = true;
  }
#endif
  return chosen;
}

}  // namespace ortlm::model::kernels
