#include "graph/passes/lm_head_sharing.hpp"

#include <cstring>

#include "graph/onnx_fields.hpp"

namespace ortlm::graph {
namespace {

bool is_float_matrix(const OnnxGraph& g, const std::string& name) {
  if (!g.is_initializer(name)) return false;
  const auto t = g.tensor(name);
  return t.data_type == onnx::kFloat32 && t.dims.size() == 2 && !t.raw.empty();
}

// Whether initializer `copy` ([H, V]) holds exactly the transpose of `embedding` ([V, H]).
bool is_transposed_copy(const OnnxGraph& g, const std::string& copy, const std::string& embedding) {
  if (!is_float_matrix(g, copy)) return false;
  const auto c = g.tensor(copy), e = g.tensor(embedding);
  if (c.dims != std::vector<int64_t>{e.dims[1], e.dims[0]}) return false;
  const auto rows = static_cast<size_t>(e.dims[0]), cols = static_cast<size_t>(e.dims[1]);
  const char* cp = c.raw.data();
  const char* ep = e.raw.data();
  for (size_t r = 0; r < rows; ++r)
    for (size_t k = 0; k < cols; ++k)  // bitwise: -0.0 and NaN payloads must match too
      if (std::memcmp(cp + (k * rows + r) * 4, ep + (r * cols + k) * 4, 4) != 0) return false;
  return true;
}

}  // namespace

std::optional<size_t> find_token_embedding(const OnnxGraph& g) {
  std::optional<size_t> found;
  size_t best = 0;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const GraphNode& n = g.nodes()[i];
    const auto* axis = n.attribute("axis");
    if (!n.is("Gather") || (axis && axis->i && *axis->i != 0) || n.inputs.size() != 2) continue;
    if (!g.is_initializer(n.inputs[0])) continue;
    const auto t = g.tensor(n.inputs[0]);
    if (t.data_type != onnx::kFloat32 || t.dims.size() != 2 || t.elements <= best) continue;
    best = t.elements;
    found = i;
  }
  return found;
}

LmHeadSharingPlan plan_lm_head_sharing(const OnnxGraph& g) {
  LmHeadSharingPlan plan;
  const auto gather = find_token_embedding(g);
  if (!gather) {
    plan.why_not = "no token embedding (a Gather of a float32 matrix)";
    return plan;
  }
  const std::string& embedding = g.nodes()[*gather].inputs[0];
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    const GraphNode& n = g.nodes()[i];
    if (!n.is("MatMul") || n.inputs.size() != 2) continue;
    const std::string& b = n.inputs[1];
    bool shared = false;
    if (auto p = g.producer(b)) {
      const GraphNode& t = g.nodes()[*p];
      const auto* perm = t.attribute("perm");
      shared = t.is("Transpose") && t.inputs.at(0) == embedding &&
               (!perm || perm->ints == std::vector<int64_t>{1, 0});
    } else {
      shared = b != embedding && is_transposed_copy(g, b, embedding);
    }
    if (!shared) continue;
    GraphNode head;
    head.name = n.name.empty() ? "ortlm/lm_head" : n.name;
    head.op_type = "FusedMatMul";
    head.domain = "com.microsoft";
    head.inputs = {n.inputs[0], embedding};
    head.outputs = n.outputs;
    NodeAttribute trans_b;
    trans_b.name = "transB";
    trans_b.i = 1;
    head.attributes = {trans_b};
    plan.edit.removed.insert(i);
    plan.edit.added.push_back(std::move(head));
    plan.edit.opsets["com.microsoft"] = 1;
    for (const auto& name : g.unused_initializers(plan.edit)) plan.edit.removed_initializers.insert(name);
    return plan;
  }
  plan.why_not = "no MatMul reads the embedding transposed";
  return plan;
}

}  // namespace ortlm::graph
