#include "graph/passes/int4_matmul.hpp"

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "graph/onnx_fields.hpp"
#include "graph/passes/attention_match.hpp"

namespace ortlm::graph {
namespace {

constexpr const char* kOrtlmDomain = "ortlm";  // as model/custom_ops registers it
constexpr int64_t kGroup = 16;
constexpr int64_t kMaxDim = int64_t{1} << 24;

int64_t int_attribute_or(const GraphNode& node, const char* name, int64_t fallback) {
  const auto* a = node.attribute(name);
  return a && a->i ? *a->i : fallback;
}

struct NodeShape {
  int64_t k, n, block;
};

// The node's K, N and block size when it is one this pass rewrites.
std::optional<NodeShape> rewritable(const OnnxGraph& graph, const GraphNode& node) {
  if (!node.is("MatMulNBits", kMicrosoftDomain) || node.inputs.size() < 3 || node.outputs.size() != 1)
    return std::nullopt;
  for (size_t i = 4; i < node.inputs.size(); ++i)  // g_idx, bias
    if (!node.inputs[i].empty()) return std::nullopt;
  const NodeShape shape{int_attribute_or(node, "K", 0), int_attribute_or(node, "N", 0),
                        int_attribute_or(node, "block_size", 0)};
  if (int_attribute_or(node, "bits", 4) != 4 || int_attribute_or(node, "accuracy_level", 0) != 4 ||
      shape.k <= 0 || shape.n <= 0 || shape.block < 8 || shape.block % 8 != 0 || shape.k % shape.block != 0)
    return std::nullopt;
  // Dims from the file: bounded before the byte counts below are computed from them.
  if (shape.k > kMaxDim || shape.n > kMaxDim) return std::nullopt;
  const bool has_zero_points = node.inputs.size() > 3 && !node.inputs[3].empty();
  for (size_t i = 1; i < (has_zero_points ? 4u : 3u); ++i)
    if (!graph.is_initializer(node.inputs[i])) return std::nullopt;
  const auto blocks = static_cast<size_t>(shape.k / shape.block), n = static_cast<size_t>(shape.n);
  const TensorData levels = graph.tensor(node.inputs[1]);
  if (levels.data_type != onnx::kUint8 ||
      levels.raw.size() != n * blocks * static_cast<size_t>(shape.block / 2))
    return std::nullopt;
  const TensorData scales = graph.tensor(node.inputs[2]);
  if (scales.data_type != onnx::kFloat32 || scales.elements != n * blocks) return std::nullopt;
  if (has_zero_points) {
    const TensorData zero_points = graph.tensor(node.inputs[3]);
    if (zero_points.data_type != onnx::kUint8 || zero_points.raw.size() != n * ((blocks + 1) / 2))
      return std::nullopt;
  }
  return shape;
}

// The interleaved initializers of one node's weights (see the header), added to `edit` under names
// derived from the originals; returns the Int4MatMul node's inputs after A.
std::vector<std::string> add_interleaved(const OnnxGraph& graph, const GraphNode& node,
                                         const NodeShape& shape, GraphEdit& edit) {
  const int64_t groups = (shape.n + kGroup - 1) / kGroup, blocks = shape.k / shape.block;
  const int64_t bytes_per_block = shape.block / 2;
  const std::string levels_name = node.inputs[1] + "/ortlm_int4x16";
  const std::string scales_name = node.inputs[2] + "/ortlm_int4x16";
  const bool has_zero_points = node.inputs.size() > 3 && !node.inputs[3].empty();
  std::vector<std::string> inputs{levels_name, scales_name};
  if (has_zero_points) inputs.push_back(node.inputs[3] + "/ortlm_int4x16");
  if (edit.added_initializers.count(levels_name)) return inputs;  // another node with the same weights

  // Column n's rows 8 s .. 8 s + 7 are bytes 4 s .. 4 s + 3 of its packed row (two levels a byte, low
  // nibble first); they become bytes 4 c .. 4 c + 3 of [g, s]: rows 8 s + j and 8 s + 4 + j together.
  const TensorData packed = graph.tensor(node.inputs[1]);
  std::string levels(static_cast<size_t>(groups * shape.k * 8), '\0');
  const int64_t row_bytes = blocks * bytes_per_block;
  for (int64_t n = 0; n < shape.n; ++n) {
    const auto* column = reinterpret_cast<const uint8_t*>(packed.raw.data()) + n * row_bytes;
    for (int64_t s = 0; s < shape.k / 8; ++s) {
      const uint8_t* in = column + s * 4;
      const uint8_t low[4] = {static_cast<uint8_t>(in[0] & 0x0F), static_cast<uint8_t>(in[0] >> 4),
                              static_cast<uint8_t>(in[1] & 0x0F), static_cast<uint8_t>(in[1] >> 4)};
      const uint8_t high[4] = {static_cast<uint8_t>(in[2] & 0x0F), static_cast<uint8_t>(in[2] >> 4),
                               static_cast<uint8_t>(in[3] & 0x0F), static_cast<uint8_t>(in[3] >> 4)};
      char* out = levels.data() + ((n / kGroup) * (shape.k / 8) + s) * 64 + (n % kGroup) * 4;
      for (int j = 0; j < 4; ++j) out[j] = static_cast<char>(low[j] | (high[j] << 4));
    }
  }
  edit.added_initializers[levels_name] =
      encode_raw_tensor(levels_name, {groups, shape.k / 8, 64}, onnx::kUint8, levels);

  const std::vector<float> scale_values = *graph.tensor(node.inputs[2]).floats();
  std::vector<float> scales(static_cast<size_t>(groups * blocks * kGroup), 0.0f);
  for (int64_t n = 0; n < shape.n; ++n)
    for (int64_t b = 0; b < blocks; ++b)
      scales[static_cast<size_t>(((n / kGroup) * blocks + b) * kGroup + n % kGroup)] =
          scale_values[static_cast<size_t>(n * blocks + b)];
  edit.added_initializers[scales_name] =
      encode_raw_tensor(scales_name, {groups, blocks, kGroup}, onnx::kFloat32,
                        {reinterpret_cast<const char*>(scales.data()), scales.size() * sizeof(float)});

  if (has_zero_points) {
    const TensorData zero_points = graph.tensor(node.inputs[3]);
    const int64_t row_bytes = (blocks + 1) / 2;
    std::string unpacked(static_cast<size_t>(groups * blocks * kGroup), '\0');
    for (int64_t n = 0; n < shape.n; ++n)
      for (int64_t b = 0; b < blocks; ++b) {
        const auto byte = static_cast<uint8_t>(zero_points.raw[static_cast<size_t>(n * row_bytes + b / 2)]);
        unpacked[static_cast<size_t>(((n / kGroup) * blocks + b) * kGroup + n % kGroup)] =
            static_cast<char>(b % 2 == 0 ? (byte & 0x0F) : (byte >> 4));
      }
    edit.added_initializers[inputs[2]] =
        encode_raw_tensor(inputs[2], {groups, blocks, kGroup}, onnx::kUint8, unpacked);
  }
  return inputs;
}

}  // namespace

Int4MatMulPlan plan_int4_matmuls(const OnnxGraph& graph, GraphEdit edit) {
  Int4MatMulPlan plan;
  std::set<std::string> replaced_weights;
  const auto rewrite = [&](const GraphNode& node) -> std::optional<GraphNode> {
    const auto shape = rewritable(graph, node);
    if (!shape) return std::nullopt;
    std::vector<std::string> inputs{node.inputs[0]};
    for (auto& name : add_interleaved(graph, node, *shape, edit)) inputs.push_back(std::move(name));
    for (size_t i = 1; i < std::min<size_t>(node.inputs.size(), 4); ++i)
      if (!node.inputs[i].empty()) replaced_weights.insert(node.inputs[i]);
    GraphNode fused = make_node("Int4MatMul", std::move(inputs), node.outputs, kOrtlmDomain);
    fused.attributes = {int_attribute("K", shape->k), int_attribute("N", shape->n),
                        int_attribute("block_size", shape->block), int_attribute("accuracy_level", 4)};
    ++plan.matmuls;
    return fused;
  };
  for (auto& node : edit.added)
    if (auto fused = rewrite(node)) node = std::move(*fused);
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    if (edit.removed.count(i)) continue;
    if (auto fused = rewrite(graph.nodes()[i])) {
      edit.removed.insert(i);
      edit.added.push_back(std::move(*fused));
    }
  }
  if (plan.matmuls == 0) {
    plan.why_not = "no 4-bit MatMulNBits with int8 compute (accuracy_level 4) and constant weights";
    plan.edit = std::move(edit);
    return plan;
  }
  // The original weights go unless something else still reads them.
  const auto unused = graph.unused_initializers(edit);
  for (const auto& name : replaced_weights)
    if (unused.count(name)) edit.removed_initializers.insert(name);
  edit.opsets[kOrtlmDomain] = 1;
  plan.edit = std::move(edit);
  return plan;
}

}  // namespace ortlm::graph
