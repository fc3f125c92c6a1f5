#pragma once
// The bytes of ONNX Runtime's block-quantized operators (docs/ContribOperators.md): levels are
// packed along each row, lowest bits first (for 4 bits, value 2i in the low nibble of byte i and
// value 2i+1 in the high nibble), and zero points are packed the same way, one per block.
//   MatMulNBits:          B [N, k_blocks, block_size * bits / 8] uint8, scales [N, k_blocks],
//                         zero_points [N, ceil(k_blocks * bits / 8)] uint8 (absent: 2^(bits-1)).
//   GatherBlockQuantized: data [rows, cols * bits / 8] uint8 (quantize_axis = the last), scales
//                         [rows, ceil(cols / block_size)], zero_points packed as for MatMulNBits.
#include <cstdint>
#include <string>
#include <vector>

#include "quant/quantized_matrix.hpp"

namespace ortlm::quant {

// `rows` rows of `length` levels each (row r starts at levels[r * stride]), packed row by row.
std::string pack_levels(const uint8_t* levels, int64_t rows, int64_t length, int64_t stride, int bits);

struct PackedWeights {
  std::vector<int64_t> data_dims, scales_dims, zero_points_dims;
  std::string data, zero_points;  // zero_points empty when symmetric
  std::vector<float> scales;
};

PackedWeights matmul_nbits_weights(const QuantizedMatrix& m);
// Needs cols * bits to be a multiple of 8 (the data is not padded to whole blocks).
PackedWeights gather_block_quantized_weights(const QuantizedMatrix& m);

}  // namespace ortlm::quant
