#include "quant/float16.hpp"

#include <cmath>
#include <cstring>
#include <set>

#include "graph/onnx_fields.hpp"
#include "ortlm/error.hpp"

namespace ortlm::quant {
namespace {

using graph::GraphNode;
namespace onnx = graph::onnx;

// Nodes whose float32 output comes from a dtype attribute that this pass does not rewrite.
const std::set<std::string> kDtypeOperators{"EyeLike",          "RandomNormal",      "RandomUniform",
                                            "RandomNormalLike", "RandomUniformLike", "Bernoulli",
                                            "Multinomial"};

// A Constant's float32 value (and its dims), or nothing when it holds another type.
bool constant_floats(const graph::OnnxGraph& g, const GraphNode& n, std::vector<int64_t>& dims,
                     std::vector<float>& values) {
  for (const auto& a : n.attributes) {
    if (a.name == "value_float" && a.f) {
      dims = {};
      values = {*a.f};
      return true;
    }
    if (a.name == "value_floats") {
      dims = {static_cast<int64_t>(a.floats.size())};
      values = a.floats;
      return true;
    }
    if (a.name == "value" && !a.tensor.empty()) {
      const auto t = g.decode_tensor(a.tensor, g.path().string() + ": Constant '" + n.name + "'");
      if (t.data_type != onnx::kFloat32) return false;
      dims = t.dims;
      values = *t.floats();
      return true;
    }
  }
  return false;
}

}  // namespace

uint16_t to_float16(float x) {
  uint32_t bits = 0;
  std::memcpy(&bits, &x, sizeof bits);
  const auto sign = static_cast<uint16_t>((bits >> 16) & 0x8000u);
  if (std::isnan(x)) return static_cast<uint16_t>(sign | 0x7e00u);
  const float magnitude = std::fabs(x);
  if (magnitude >= 65504.0f) return static_cast<uint16_t>(sign | 0x7bffu);
  if (magnitude < 6.103515625e-05f)  // below the smallest normal: a multiple of 2^-24 (exact scaling)
    return static_cast<uint16_t>(sign | static_cast<uint16_t>(std::nearbyint(magnitude * 16777216.0f)));
  const uint32_t exponent = ((bits >> 23) & 0xffu) - 127u + 15u, mantissa = bits & 0x7fffffu;
  uint32_t half = (exponent << 10) | (mantissa >> 13);
  const uint32_t rest = mantissa & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) ++half;  // a carry moves into the exponent
  return static_cast<uint16_t>(sign | half);
}

std::string float16_bytes(const float* values, size_t n) {
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    const uint16_t h = to_float16(values[i]);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

void convert_to_float16(const graph::OnnxGraph& g, graph::GraphEdit& edit, const AddInitializer& add) {
  for (const auto& name : g.initializer_names()) {
    if (edit.removed_initializers.count(name) || edit.added_initializers.count(name)) continue;
    const auto t = g.tensor(name);
    if (t.data_type != onnx::kFloat32) continue;
    const auto values = *t.floats();
    edit.removed_initializers.insert(name);
    add(name, t.dims, onnx::kFloat16, float16_bytes(values.data(), values.size()));
  }

  for (size_t i = 0; i < g.nodes().size(); ++i) {
    if (edit.removed.count(i)) continue;
    const GraphNode& n = g.nodes()[i];
    const std::string label = n.op_type + " '" + (n.name.empty() ? n.outputs.at(0) : n.name) + "'";
    if (!n.domain.empty()) continue;
    if (kDtypeOperators.count(n.op_type))
      throw Error(g.path().string() + ": --fp16 cannot convert the " + label +
                  " node (its output type is set by a dtype attribute)");
    if (n.op_type == "Cast") {
      const auto* to = n.attribute("to");
      if (!to || to->i != static_cast<int64_t>(onnx::kFloat32)) continue;
      GraphNode cast = n;
      cast.encoded = {};
      for (auto& a : cast.attributes)
        if (a.name == "to") a.i = static_cast<int64_t>(onnx::kFloat16);
      edit.removed.insert(i);
      edit.added.push_back(std::move(cast));
    } else if (n.op_type == "Constant") {
      std::vector<int64_t> dims;
      std::vector<float> values;
      if (!constant_floats(g, n, dims, values)) continue;
      edit.removed.insert(i);  // the value becomes an initializer of the same name
      add(n.outputs.at(0), dims, onnx::kFloat16, float16_bytes(values.data(), values.size()));
    } else if (n.op_type == "ConstantOfShape") {
      // float32 zeros when no value is given; the node is replaced by Expand(scalar, shape).
      float value = 0;
      if (const auto* a = n.attribute("value"); a && !a->tensor.empty()) {
        const auto t = g.decode_tensor(a->tensor, g.path().string() + ": " + label);
        if (t.data_type != onnx::kFloat32) continue;
        const auto values = *t.floats();
        if (values.size() != 1)
          throw Error(g.path().string() + ": " + label + " has a value of more than one element");
        value = values[0];
      }
      const std::string scalar = n.outputs.at(0) + "_float16_value";
      add(scalar, {}, onnx::kFloat16, float16_bytes(&value, 1));
      GraphNode expand;
      expand.op_type = "Expand";
      expand.name = n.name;
      expand.inputs = {scalar, n.inputs.at(0)};
      expand.outputs = n.outputs;
      edit.removed.insert(i);
      edit.added.push_back(std::move(expand));
    }
  }

  // The float inputs and outputs (the KV cache, the logits) are declared float16, in their order.
  for (const auto* values : {&g.input_values(), &g.output_values()}) {
    const bool inputs = values == &g.input_values();
    for (const auto& v : *values) {
      if (v.elem_type != static_cast<int32_t>(onnx::kFloat32) || g.is_initializer(v.name)) continue;
      graph::GraphValue half = v;
      half.elem_type = static_cast<int32_t>(onnx::kFloat16);
      (inputs ? edit.removed_inputs : edit.removed_outputs).insert(v.name);
      (inputs ? edit.added_inputs : edit.added_outputs).push_back(std::move(half));
    }
  }
}

}  // namespace ortlm::quant
