#pragma once
// A weight matrix quantized row by row: each row is cut into blocks along its columns (the last
// block padded), the layout both of ONNX Runtime's block-quantized operators use (MatMulNBits:
// N rows of K input features; GatherBlockQuantized: one row per token, quantized along the hidden
// dimension).
#include <cstdint>
#include <vector>

#include "quant/block_quant.hpp"

namespace ortlm::quant {

struct QuantizedMatrix {
  BlockFormat format;
  int64_t rows = 0, cols = 0, blocks_per_row = 0;
  std::vector<uint8_t> levels;       // rows x (blocks_per_row * block_size); padding = the zero point
  std::vector<float> scales;         // rows x blocks_per_row
  std::vector<uint8_t> zero_points;  // rows x blocks_per_row

  int64_t padded_cols() const { return blocks_per_row * format.block_size; }
  BlockParams block(int64_t row, int64_t col) const {
    const size_t b = static_cast<size_t>(row * blocks_per_row + col / format.block_size);
    return {scales[b], zero_points[b]};
  }
  float dequantized(int64_t row, int64_t col) const {
    return dequantize(levels[static_cast<size_t>(row * padded_cols() + col)], block(row, col));
  }
};

// Quantizes a rows x cols matrix whose element (r, c) is values[r * row_stride + c * col_stride]
// (so a [K, N] MatMul weight is read as N rows of K with row_stride 1, col_stride N), on `threads`
// threads (0 = one per core).
QuantizedMatrix quantize_matrix(const float* values, int64_t rows, int64_t cols, int64_t row_stride,
                                int64_t col_stride, const BlockFormat& format, Method method,
                                int threads = 0);

}  // namespace ortlm::quant
