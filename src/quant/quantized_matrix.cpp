#include "quant/quantized_matrix.hpp"

#include <algorithm>
#include <thread>

namespace ortlm::quant {

QuantizedMatrix quantize_matrix(const float* values, int64_t rows, int64_t cols, int64_t row_stride,
                                int64_t col_stride, const BlockFormat& format, Method method, int threads) {
  QuantizedMatrix m;
  m.format = format;
  m.rows = rows;
  m.cols = cols;
  m.blocks_per_row = (cols + format.block_size - 1) / format.block_size;
  const auto blocks = static_cast<size_t>(rows * m.blocks_per_row);
  m.levels.resize(blocks * static_cast<size_t>(format.block_size));
  m.scales.resize(blocks);
  m.zero_points.resize(blocks);

  auto quantize_rows = [&](int64_t first, int64_t last) {
    std::vector<float> block(static_cast<size_t>(format.block_size));
    for (int64_t r = first; r < last; ++r) {
      for (int64_t b = 0; b < m.blocks_per_row; ++b) {
        const int64_t c0 = b * format.block_size;
        const int64_t n = std::min<int64_t>(format.block_size, cols - c0);
        for (int64_t i = 0; i < n; ++i)
          block[static_cast<size_t>(i)] = values[r * row_stride + (c0 + i) * col_stride];
        const size_t at = static_cast<size_t>(r * m.blocks_per_row + b);
        uint8_t* levels = m.levels.data() + at * static_cast<size_t>(format.block_size);
        const BlockParams p = quantize_block(std::span<const float>(block.data(), static_cast<size_t>(n)),
                                             format, method, levels);
        std::fill(levels + n, levels + format.block_size, p.zero_point);  // padding stands for exactly 0
        m.scales[at] = p.scale;
        m.zero_points[at] = p.zero_point;
      }
    }
  };
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<int64_t>(threads, std::max<int64_t>(1, rows / 64)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t)
    pool.emplace_back(quantize_rows, rows * t / threads, rows * (t + 1) / threads);
  quantize_rows(0, rows / threads);
  for (auto& thread : pool) thread.join();
  return m;
}

}  // namespace ortlm::quant
