#pragma once
// The arithmetic of the Int4MatMul operator (model/int4_matmul_op): out[M, N] = A[M, K] · W[K, N] with W
// 4-bit, block-quantized along K (w = (level - zero point) · scale, one scale and zero point per block of
// `block` values of a column), in the column-interleaved layout of graph/passes/int4_matmul (16 columns
// side by side, so that one 512-bit VNNI dot product advances 16 columns by 4 rows of K).
//
// Two ways to compute, as MatMulNBits's accuracy_level chooses:
//   int8: each row of A is quantized per block to int8 (scale = max |a| / 127, round to nearest even,
//         the way ONNX Runtime's MLAS quantizes A), and the block dot products are exact integer sums;
//   float: the levels are converted to float and multiplied with A as it is (the load-time probe's
//          exact comparison, and models asking for float compute).
// A column group is 16 columns; the last group of a matrix whose N is not a multiple of 16 is padded
// with zero scales, and only its real columns are written.
#include <cstdint>

namespace ortlm::model::kernels {

struct Int4MatMulArgs {
  int64_t rows = 0, k = 0, n = 0, block = 0;  // M, K, N; block a multiple of 8 dividing K
  const uint8_t* levels = nullptr;            // [groups][K / 8][64] (graph/passes/int4_matmul)
  const float* scales = nullptr;              // [groups][K / block][16]
  const uint8_t* zero_points = nullptr;       // [groups][K / block][16], or null: 8 for every block
  // int8: A quantized (rows of K) and its block scales. float: A as it is.
  const int8_t* a_levels = nullptr;
  const float* a_scales = nullptr;
  const float* a = nullptr;
  // Both: the sum of each block of each row (of the int8 levels, or of A), [rows][K / block].
  const float* a_sums = nullptr;
  float* out = nullptr;  // [rows][N]
};

// Computes columns [16 · group_begin, 16 · group_end) of every row.
using Int4MatMulFn = void (*)(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end);

void int4_matmul_int8_scalar(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end);
void int4_matmul_float_scalar(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end);
void int4_matmul_int8_avx512vnni(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end);
void int4_matmul_float_avx512vnni(const Int4MatMulArgs& args, int64_t group_begin, int64_t group_end);

// Quantizes `rows` rows of `k` values of `a` per block of `block`, for the int8 way: levels, block
// scales and block sums of the levels, as Int4MatMulArgs reads them.
void quantize_rows_int8(const float* a, int64_t rows, int64_t k, int64_t block, int8_t* levels, float* scales,
                        float* sums);
// The sum of each block of each row, for the float way.
void block_sums(const float* a, int64_t rows, int64_t k, int64_t block, float* sums);

struct Int4MatMulKernels {
  Int4MatMulFn int8 = nullptr, floats = nullptr;
  const char* name = nullptr;  // "avx512vnni", "scalar"
};
// The fastest kernels this CPU runs. `fast` is false where only the scalar reference runs: the load-time
// rewrite then leaves ONNX Runtime's MatMulNBits in place.
Int4MatMulKernels select_int4_matmul(bool* fast = nullptr);

}  // namespace ortlm::model::kernels
