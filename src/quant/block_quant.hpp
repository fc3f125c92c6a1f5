#pragma once
// Block quantization of weights: a block of `block_size` consecutive values shares one scale and
// one integer zero point, and each value becomes a level q in [0, 2^bits - 1] that stands for
// (q - zero_point) * scale (ONNX Runtime's MatMulNBits / GatherBlockQuantized definition).
//
// Round-to-nearest (rtn) picks the scale from the block's range and rounds; its error per value
// is at most scale / 2 (asymmetric) or |scale| (symmetric, whose one extra negative level clips
// the largest positive values by up to one step). The search tries a grid of narrower and wider
// scales (and the zero points they imply), refits each scale by least squares to the levels it
// gives (as llama.cpp's k-quants do), and keeps the one with the smallest squared error; RTN's
// choice is one of the candidates, so the search's squared error per block is never larger.
#include <cstddef>
#include <cstdint>
#include <span>

namespace ortlm::quant {

enum class Method { rtn, search };

struct BlockFormat {
  int bits = 4;            // 4 or 8
  int block_size = 32;     // 16, 32, 64 or 128
  bool symmetric = false;  // zero point fixed at 2^(bits-1), not stored
  int max_level() const { return (1 << bits) - 1; }
  uint8_t symmetric_zero_point() const { return static_cast<uint8_t>(1 << (bits - 1)); }
};

struct BlockParams {
  float scale = 0;
  uint8_t zero_point = 0;
};

// The value a level stands for, computed as ONNX Runtime's reference kernels do.
inline float dequantize(uint8_t level, BlockParams p) {
  return static_cast<float>(static_cast<int32_t>(level) - static_cast<int32_t>(p.zero_point)) * p.scale;
}

// Quantizes `values` (one block, at most block_size of them) into `levels` (same count).
BlockParams quantize_block(std::span<const float> values, const BlockFormat& format, Method method,
                           uint8_t* levels);

// Sum of squared differences between `values` and what `levels` stand for.
double squared_error(std::span<const float> values, const uint8_t* levels, BlockParams p);

}  // namespace ortlm::quant
