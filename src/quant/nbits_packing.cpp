#include "quant/nbits_packing.hpp"

#include "ortlm/error.hpp"

namespace ortlm::quant {

std::string pack_levels(const uint8_t* levels, int64_t rows, int64_t length, int64_t stride, int bits) {
  const int per_byte = 8 / bits;
  const int64_t row_bytes = (length + per_byte - 1) / per_byte;
  std::string out(static_cast<size_t>(rows * row_bytes), '\0');
  for (int64_t r = 0; r < rows; ++r) {
    const uint8_t* row = levels + r * stride;
    auto* bytes = reinterpret_cast<uint8_t*>(out.data()) + r * row_bytes;
    for (int64_t i = 0; i < length; ++i)
      bytes[i / per_byte] |= static_cast<uint8_t>(row[i] << ((i % per_byte) * bits));
  }
  return out;
}

namespace {

void pack_zero_points(const QuantizedMatrix& m, PackedWeights& w) {
  if (m.format.symmetric) return;
  const int64_t per_byte = 8 / m.format.bits;
  w.zero_points_dims = {m.rows, (m.blocks_per_row + per_byte - 1) / per_byte};
  w.zero_points =
      pack_levels(m.zero_points.data(), m.rows, m.blocks_per_row, m.blocks_per_row, m.format.bits);
}

}  // namespace

PackedWeights matmul_nbits_weights(const QuantizedMatrix& m) {
  PackedWeights w;
  w.data_dims = {m.rows, m.blocks_per_row, m.format.block_size * m.format.bits / 8};
  w.data = pack_levels(m.levels.data(), m.rows, m.padded_cols(), m.padded_cols(), m.format.bits);
  w.scales_dims = {m.rows, m.blocks_per_row};
  w.scales = m.scales;
  pack_zero_points(m, w);
  return w;
}

PackedWeights gather_block_quantized_weights(const QuantizedMatrix& m) {
  if (m.cols * m.format.bits % 8 != 0)
    throw Error("GatherBlockQuantized needs whole bytes per row: " + std::to_string(m.cols) + " columns of " +
                std::to_string(m.format.bits) + " bits");
  PackedWeights w;
  w.data_dims = {m.rows, m.cols * m.format.bits / 8};
  w.data = pack_levels(m.levels.data(), m.rows, m.cols, m.padded_cols(), m.format.bits);
  w.scales_dims = {m.rows, m.blocks_per_row};
  w.scales = m.scales;
  pack_zero_points(m, w);
  return w;
}

}  // namespace ortlm::quant
