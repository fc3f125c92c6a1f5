#include "graph/passes/silu_mul_fusion.hpp"

#include <cstring>
#include <optional>

#include "graph/onnx_fields.hpp"
#include "graph/passes/attention_match.hpp"

namespace ortlm::graph {
namespace {

// The op's domain and name (model/silu_mul_op; the domain as model/custom_ops registers it).
constexpr const char* kOrtlmDomain = "ortlm";

class SiluMatcher {
 public:
  explicit SiluMatcher(const OnnxGraph& g) : g_(g), m_(g) {}

  // g when `value` is Mul(g, Sigmoid(g)), either order, and the sigmoid has no other reader.
  std::optional<std::string> silu_input(const std::string& value) const {
    const auto* mul = m_.sole_producer(value, "Mul");
    if (!mul || mul->inputs.size() != 2) return std::nullopt;
    for (int i = 0; i < 2; ++i) {
      const auto* sigmoid = m_.sole_producer(mul->inputs[1 - i], "Sigmoid");
      if (sigmoid && sigmoid->inputs.size() == 1 && sigmoid->inputs[0] == mul->inputs[i])
        return mul->inputs[i];
    }
    return std::nullopt;
  }

  // The stacked [..., 2F] tensor when `gate` and `up` are its halves, split along the last axis by a
  // Split read by nothing else.
  std::optional<std::string> stacked(const std::string& gate, const std::string& up) const {
    const auto index = g_.producer(gate);
    if (!index || g_.producer(up) != index) return std::nullopt;
    const GraphNode& split = g_.nodes()[*index];
    if (!split.is("Split") || split.outputs.size() != 2 || split.outputs[0] != gate || split.outputs[1] != up)
      return std::nullopt;
    const auto* axis = split.attribute("axis");
    if (!axis || !axis->i || *axis->i != -1) return std::nullopt;
    // The gate is read by the sigmoid and its Mul; up by the product alone.
    if (g_.consumers(gate).size() != 2 || g_.consumers(up).size() != 1 || g_.has_output(gate) ||
        g_.has_output(up))
      return std::nullopt;
    if (!equal_halves(split)) return std::nullopt;
    return split.inputs.at(0);
  }

 private:
  // Sizes as an input (opset 13+) or attribute, equal; or absent (equal by definition).
  bool equal_halves(const GraphNode& split) const {
    std::vector<int64_t> sizes;
    if (const auto* a = split.attribute("split")) sizes = a->ints;
    if (split.inputs.size() > 1 && !split.inputs[1].empty()) {
      if (!g_.is_initializer(split.inputs[1])) return false;
      const auto t = g_.tensor(split.inputs[1]);
      if (t.data_type != onnx::kInt64 || t.raw.size() != 2 * sizeof(int64_t)) return false;
      sizes.resize(2);
      std::memcpy(sizes.data(), t.raw.data(), t.raw.size());
    }
    return sizes.empty() || (sizes.size() == 2 && sizes[0] == sizes[1]);
  }

  const OnnxGraph& g_;
  Matcher m_;
};

}  // namespace

SiluMulFusionPlan plan_silu_mul_fusion(const OnnxGraph& graph) {
  SiluMulFusionPlan plan;
  const SiluMatcher silu(graph);
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const GraphNode& product = graph.nodes()[i];
    if (!product.is("Mul") || product.inputs.size() != 2 || product.outputs.size() != 1) continue;
    for (int a = 0; a < 2; ++a) {
      const auto gate = silu.silu_input(product.inputs[a]);
      if (!gate) continue;
      const std::string& up = product.inputs[1 - a];
      const auto packed = silu.stacked(*gate, up);
      GraphNode fused = make_node("SiluMul", packed ? std::vector{*packed} : std::vector{*gate, up},
                                  product.outputs, kOrtlmDomain);
      plan.edit.added.push_back(std::move(fused));
      plan.edit.removed.insert(i);  // the sigmoid, its Mul and a packed Split are then unused
      ++plan.activations;
      plan.packed += packed.has_value();
      break;
    }
  }
  if (plan.activations == 0) {
    plan.why_not = "no Mul(Mul(g, Sigmoid(g)), up)";
    return plan;
  }
  plan.edit.opsets[kOrtlmDomain] = 1;
  return plan;
}

}  // namespace ortlm::graph
