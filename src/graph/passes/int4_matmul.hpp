#pragma once
// Load-time rewrite of 4-bit MatMulNBits nodes (com.microsoft, int8 compute: accuracy_level 4) into
// ortlm.Int4MatMul (model/int4_matmul_op), whose weights are interleaved 16 columns at a time so that a
// VNNI dot product advances 16 columns at once (ONNX Runtime's kernel reads one column at a time).
// Sessions of the result need the "ortlm" operator domain (model/custom_ops).
//
// Int4MatMul(A [..., K]) -> [..., N], attributes K, N, block_size, accuracy_level (as MatMulNBits's)
// and `weights`, the handle of its Int4Weights. The weights are ortlm's, not initializers: ONNX Runtime
// would keep a copy of the graph's bytes and one of its own, where ortlm needs one (its kernels hold
// them while they live), and the model is not serialized with them at load.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "graph/onnx_graph.hpp"

namespace ortlm::graph {

// One matrix's weights in the operator's layout. With G = ceil(N / 16) column groups, column n = 16 g + c:
//   levels      [G, K / 8, 64]: for rows k = 8 s .. 8 s + 7 of K, byte 4 c + j of [g, s] holds the level
//               at row 8 s + j in its low nibble and at row 8 s + 4 + j in its high nibble;
//   scales      [G, K / block, 16];
//   zero_points [G, K / block, 16], one byte each, or empty: 8 for every block (as in MatMulNBits).
// Columns past N (the last group's padding) have level, scale and zero point 0.
struct Int4Weights {
  int64_t k = 0, n = 0, block = 0;
  std::vector<uint8_t> levels;
  std::vector<float> scales;
  std::vector<uint8_t> zero_points;
  int64_t groups() const { return (n + 15) / 16; }
};

// Registers `weights` under a new handle (> 0, never reused in the process) while anything holds them.
int64_t register_int4_weights(const std::shared_ptr<const Int4Weights>& weights);
// The live weights under `handle`, or nullptr.
std::shared_ptr<const Int4Weights> find_int4_weights(int64_t handle);

struct Int4MatMulPlan {
  GraphEdit edit;
  size_t matmuls = 0;   // MatMulNBits rewritten
  std::string why_not;  // when none: why, for `ortlm info`
};

// `edit` with every 4-bit, int8-compute MatMulNBits it leaves rewritten: the graph's own (unless `edit`
// removes them) and those `edit` adds; their weights held by the edit (GraphEdit::held). Kept as they
// are: other bit widths, float compute, a g_idx or bias input, float zero points, weights that are not
// initializers, block sizes that are not a multiple of 8 or do not divide K.
Int4MatMulPlan plan_int4_matmuls(const OnnxGraph& graph, GraphEdit edit = {});

}  // namespace ortlm::graph
