#include "graph/passes/int4_matmul.hpp"

#include <algorithm>
#include <map>
#include <mutex>
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

// One node's weights in the operator's layout (see the header).
std::shared_ptr<Int4Weights> interleaved(const OnnxGraph& graph, const GraphNode& node,
                                         const NodeShape& shape) {
  auto w = std::make_shared<Int4Weights>();
  w->k = shape.k;
  w->n = shape.n;
  w->block = shape.block;
  const int64_t groups = w->groups(), blocks = shape.k / shape.block, subs = shape.k / 8;
  // Column n's rows 8 s .. 8 s + 7 are bytes 4 s .. 4 s + 3 of its packed row (two levels a byte, low
  // nibble first); they become bytes 4 c .. 4 c + 3 of [g, s]: rows 8 s + j and 8 s + 4 + j together.
  const TensorData packed = graph.tensor(node.inputs[1]);
  w->levels.assign(static_cast<size_t>(groups * subs * 64), 0);
  for (int64_t n = 0; n < shape.n; ++n) {
    const auto* column = reinterpret_cast<const uint8_t*>(packed.raw.data()) + n * (shape.k / 2);
    for (int64_t s = 0; s < subs; ++s) {
      const uint8_t* in = column + s * 4;
      uint8_t* out = w->levels.data() + ((n / kGroup) * subs + s) * 64 + (n % kGroup) * 4;
      for (int j = 0; j < 4; ++j) {
        const int low = (in[j / 2] >> (4 * (j % 2))) & 0x0F, high = (in[2 + j / 2] >> (4 * (j % 2))) & 0x0F;
        out[j] = static_cast<uint8_t>(low | (high << 4));
      }
    }
  }
  const std::vector<float> scales = *graph.tensor(node.inputs[2]).floats();
  w->scales.assign(static_cast<size_t>(groups * blocks * kGroup), 0.0f);
  const auto at = [&](int64_t n, int64_t b) {
    return static_cast<size_t>(((n / kGroup) * blocks + b) * kGroup + n % kGroup);
  };
  for (int64_t n = 0; n < shape.n; ++n)
    for (int64_t b = 0; b < blocks; ++b) w->scales[at(n, b)] = scales[static_cast<size_t>(n * blocks + b)];
  if (node.inputs.size() > 3 && !node.inputs[3].empty()) {
    const TensorData zero_points = graph.tensor(node.inputs[3]);
    const auto* bytes = reinterpret_cast<const uint8_t*>(zero_points.raw.data());
    const int64_t row_bytes = (blocks + 1) / 2;
    w->zero_points.assign(w->scales.size(), 0);
    for (int64_t n = 0; n < shape.n; ++n)
      for (int64_t b = 0; b < blocks; ++b)
        w->zero_points[at(n, b)] =
            static_cast<uint8_t>((bytes[n * row_bytes + b / 2] >> (4 * (b % 2))) & 0x0F);
  }
  return w;
}

struct Registry {
  std::mutex mutex;
  std::map<int64_t, std::weak_ptr<const Int4Weights>> weights;
  int64_t last_handle = 0;
};
Registry& registry() {
  static Registry* r = new Registry();  // never destroyed: sessions may outlive statics
  return *r;
}

}  // namespace

int64_t register_int4_weights(const std::shared_ptr<const Int4Weights>& weights) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  std::erase_if(r.weights, [](const auto& entry) { return entry.second.expired(); });
  r.weights.emplace(++r.last_handle, weights);
  return r.last_handle;
}

std::shared_ptr<const Int4Weights> find_int4_weights(int64_t handle) {
  Registry& r = registry();
  const std::lock_guard lock(r.mutex);
  const auto it = r.weights.find(handle);
  return it == r.weights.end() ? nullptr : it->second.lock();
}

Int4MatMulPlan plan_int4_matmuls(const OnnxGraph& graph, GraphEdit edit) {
  Int4MatMulPlan plan;
  std::set<std::string> replaced_weights;
  // Nodes reading the same weights share one copy.
  std::map<std::string, int64_t> handles;
  const auto rewrite = [&](const GraphNode& node) -> std::optional<GraphNode> {
    const auto shape = rewritable(graph, node);
    if (!shape) return std::nullopt;
    std::string key;  // levels, scales and zero points
    for (size_t i = 1; i < std::min<size_t>(node.inputs.size(), 4); ++i) {
      key += node.inputs[i] + '\n';
      if (!node.inputs[i].empty()) replaced_weights.insert(node.inputs[i]);
    }
    auto& handle = handles[key];
    if (handle == 0) {
      std::shared_ptr<const Int4Weights> weights = interleaved(graph, node, *shape);
      handle = register_int4_weights(weights);
      edit.held.push_back(std::move(weights));
    }
    GraphNode fused = make_node("Int4MatMul", {node.inputs[0]}, node.outputs, kOrtlmDomain);
    fused.attributes = {int_attribute("K", shape->k), int_attribute("N", shape->n),
                        int_attribute("block_size", shape->block), int_attribute("accuracy_level", 4),
                        int_attribute("weights", handle)};
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
