#pragma once
// Load-time rewrite of 4-bit MatMulNBits nodes (com.microsoft, int8 compute: accuracy_level 4) into
// ortlm.Int4MatMul (model/int4_matmul_op), whose weights are interleaved 16 columns at a time so that a
// VNNI dot product advances 16 columns at once (ONNX Runtime's kernel reads one column at a time).
// Sessions of the result need the "ortlm" operator domain (model/custom_ops).
//
// Int4MatMul(A [..., K], levels, scales[, zero_points]) -> [..., N], attributes K, N, block_size,
// accuracy_level (as MatMulNBits's). With G = ceil(N / 16) column groups, column n = 16 g + c:
//   levels      uint8 [G, K / 8, 64]: for rows k = 8 s .. 8 s + 7 of K, byte 4 c + j of [g, s] holds
//               the level at row 8 s + j in its low nibble and at row 8 s + 4 + j in its high nibble;
//   scales      float [G, K / block_size, 16];
//   zero_points uint8 [G, K / block_size, 16], one byte per zero point (absent: 8, as in MatMulNBits).
// Columns past N (the last group's padding) have level, scale and zero point 0.
#include <string>

#include "graph/onnx_graph.hpp"

namespace ortlm::graph {

struct Int4MatMulPlan {
  GraphEdit edit;
  size_t matmuls = 0;   // MatMulNBits rewritten
  std::string why_not;  // when none: why, for `ortlm info`
};

// `edit` with every 4-bit, int8-compute MatMulNBits it leaves rewritten: the graph's own (unless `edit`
// removes them) and those `edit` adds. Kept as they are: other bit widths, float compute, a g_idx or
// bias input, float zero points, weights that are not initializers, block sizes that are not a
// multiple of 8 or do not divide K.
Int4MatMulPlan plan_int4_matmuls(const OnnxGraph& graph, GraphEdit edit = {});

}  // namespace ortlm::graph
