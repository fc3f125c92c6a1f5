#pragma once
// An independent reading of ONNX Runtime's block-quantized weights, written from the contrib-op
// spec (docs/ContribOperators.md, MatMulNBits and GatherBlockQuantized), not from src/quant: value i
// of a packed row is bits [(i % (8/bits)) * bits, +bits) of byte i / (8/bits); a missing zero point
// is 2^(bits-1); the value is (level - zero_point) * scale.
#include <cstdint>
#include <string_view>
#include <vector>

namespace ortlm::test {

inline int packed_value(std::string_view bytes, int64_t row_bytes, int64_t row, int64_t i, int bits) {
  const int per_byte = 8 / bits;
  const auto byte = static_cast<uint8_t>(bytes[static_cast<size_t>(row * row_bytes + i / per_byte)]);
  return (byte >> ((i % per_byte) * bits)) & ((1 << bits) - 1);
}

// The dequantized [rows, cols] matrix (rows = MatMulNBits's N, or the gathered rows), from the
// packed data (row_bytes bytes per row: k_blocks * blob for MatMulNBits, cols * bits / 8 for
// GatherBlockQuantized), scales [rows, k_blocks] and packed zero points (empty: the default).
inline std::vector<float> unpack_blocks(std::string_view data, int64_t row_bytes, const float* scales,
                                        std::string_view zero_points, int64_t rows, int64_t cols, int bits,
                                        int block) {
  const int64_t blocks = (cols + block - 1) / block;
  const int64_t zp_row_bytes = (blocks * bits + 7) / 8;
  std::vector<float> out(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      const int64_t b = c / block;
      const int zp =
          zero_points.empty() ? 1 << (bits - 1) : packed_value(zero_points, zp_row_bytes, r, b, bits);
      const int level = packed_value(data, row_bytes, r, c, bits);
      out[static_cast<size_t>(r * cols + c)] = static_cast<float>(level - zp) * scales[r * blocks + b];
    }
  return out;
}

}  // namespace ortlm::test
