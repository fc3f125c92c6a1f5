#include "graph/passes/skip_norm_fusion.hpp"

#include <cstring>
#include <optional>

#include "graph/onnx_fields.hpp"
#include "graph/passes/attention_match.hpp"

namespace ortlm::graph {
namespace {

class NormMatcher {
 public:
  explicit NormMatcher(const OnnxGraph& g) : g_(g), m_(g) {}

  // A float32 scalar: an initializer or a Constant's value.
  std::optional<float> scalar(const std::string& name) const {
    std::optional<std::vector<float>> values;
    if (const auto t = g_.float_initializer(name)) {
      values = t->values;
    } else if (const auto* c = m_.producer(name); c && c->is("Constant")) {
      if (const auto* a = c->attribute("value_float"); a && a->f) return *a->f;
      if (const auto* a = c->attribute("value"); a && !a->tensor.empty())
        values = g_.decode_tensor(a->tensor, name).floats();
    }
    if (!values || values->size() != 1) return std::nullopt;
    return values->front();
  }

  // An int64 initializer or Constant holding exactly {-1}: ReduceMean's axes as an input (opset 18).
  bool is_last_axis(const std::string& name) const {
    std::optional<TensorData> t;
    if (g_.is_initializer(name)) {
      t = g_.tensor(name);
    } else if (const auto* c = m_.producer(name); c && c->is("Constant")) {
      if (const auto* a = c->attribute("value"); a && !a->tensor.empty())
        t = g_.decode_tensor(a->tensor, name);
    }
    int64_t axis = 0;
    if (!t || t->data_type != onnx::kInt64 || t->raw.size() != sizeof axis) return false;
    std::memcpy(&axis, t->raw.data(), sizeof axis);
    return axis == -1;
  }

  // sqrt(mean(x^2, last axis) + eps): returns eps when `value` computes that from x.
  std::optional<float> root_mean_square(const std::string& value, const std::string& x) const {
    const auto* sqrt = m_.sole_producer(value, "Sqrt");
    const auto* add = sqrt ? m_.sole_producer(sqrt->inputs.at(0), "Add") : nullptr;
    if (!add || add->inputs.size() != 2) return std::nullopt;
    for (int i = 0; i < 2; ++i) {
      const auto eps = scalar(add->inputs[1 - i]);
      const auto* mean = m_.sole_producer(add->inputs[i], "ReduceMean");
      if (!eps || !mean || !reduces_last_axis(*mean)) continue;
      const auto* square = m_.sole_producer(mean->inputs.at(0), "Pow");
      if (square
              ? !(square->inputs.size() == 2 && square->inputs[0] == x && scalar(square->inputs[1]) == 2.0f)
              : !((square = m_.sole_producer(mean->inputs.at(0), "Mul")) && square->inputs.size() == 2 &&
                  square->inputs[0] == x && square->inputs[1] == x))
        continue;
      return eps;
    }
    return std::nullopt;
  }

  // x / sqrt(...), x * (1 / sqrt(...)) or x * Reciprocal(sqrt(...)), either operand order of the Mul:
  // returns x and eps.
  std::optional<std::pair<std::string, float>> normalized(const std::string& value) const {
    const auto* n = m_.sole_producer(value, "Div");
    if (n && n->inputs.size() == 2) {
      if (const auto eps = root_mean_square(n->inputs[1], n->inputs[0])) return std::pair{n->inputs[0], *eps};
      return std::nullopt;
    }
    n = m_.sole_producer(value, "Mul");
    if (!n || n->inputs.size() != 2) return std::nullopt;
    for (int i = 0; i < 2; ++i) {
      const std::string& x = n->inputs[i];
      const std::string& inverse = n->inputs[1 - i];
      std::optional<std::string> root;
      if (const auto* r = m_.sole_producer(inverse, "Reciprocal")) root = r->inputs.at(0);
      if (const auto* d = m_.sole_producer(inverse, "Div");
          d && d->inputs.size() == 2 && scalar(d->inputs[0]) == 1.0f)
        root = d->inputs[1];
      if (!root) continue;
      if (const auto eps = root_mean_square(*root, x)) return std::pair{x, *eps};
    }
    return std::nullopt;
  }

  // A float32 1-D initializer: the norm's gamma.
  bool is_gamma(const std::string& name) const {
    if (!g_.is_initializer(name)) return false;
    const auto t = g_.tensor(name);
    return t.data_type == onnx::kFloat32 && t.dims.size() == 1;
  }

 private:
  bool reduces_last_axis(const GraphNode& mean) const {
    const auto* keepdims = mean.attribute("keepdims");
    if (keepdims && keepdims->i && *keepdims->i != 1) return false;
    if (const auto* axes = mean.attribute("axes")) return axes->ints == std::vector<int64_t>{-1};
    return mean.inputs.size() == 2 && is_last_axis(mean.inputs[1]);
  }

  const OnnxGraph& g_;
  Matcher m_;
};

}  // namespace

SkipNormFusionPlan plan_skip_norm_fusion(const OnnxGraph& graph) {
  SkipNormFusionPlan plan;
  const NormMatcher norms(graph);
  for (size_t i = 0; i < graph.nodes().size(); ++i) {
    const GraphNode& scaled = graph.nodes()[i];
    if (!scaled.is("Mul") || scaled.inputs.size() != 2) continue;
    for (int g = 0; g < 2; ++g) {
      const std::string& gamma = scaled.inputs[g];
      if (!norms.is_gamma(gamma)) continue;
      const auto found = norms.normalized(scaled.inputs[1 - g]);
      if (!found) continue;
      const auto sum_node = graph.producer(found->first);
      if (!sum_node) break;
      const GraphNode& sum = graph.nodes()[*sum_node];
      if (!sum.is("Add") || sum.inputs.size() != 2 || sum.inputs[0].empty() || sum.inputs[1].empty() ||
          plan.edit.removed.count(*sum_node))  // one sum read by two norms: only the first is fused
        break;
      GraphNode fused = make_node("SkipSimplifiedLayerNormalization", {sum.inputs[0], sum.inputs[1], gamma},
                                  {scaled.outputs.at(0), "", "", sum.outputs.at(0)}, kMicrosoftDomain);
      fused.attributes.push_back(float_attribute("epsilon", found->second));
      plan.edit.added.push_back(std::move(fused));
      plan.edit.removed.insert({i, *sum_node});
      ++plan.norms;
      break;
    }
  }
  if (plan.norms == 0) {
    plan.why_not = "no residual Add followed by an RMSNorm";
    return plan;
  }
  plan.edit.opsets[kMicrosoftDomain] = 1;
  return plan;
}

}  // namespace ortlm::graph
