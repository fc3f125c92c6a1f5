#include "graph/passes/attention_fusion.hpp"

#include <cmath>
#include <map>

#include "graph/passes/attention_match.hpp"

namespace ortlm::graph {
namespace {

constexpr const char* kMs = kMicrosoftDomain;

}  // namespace

AttentionFusionPlan plan_attention_fusion(const OnnxGraph& graph, const AttentionIo& io,
                                          const AttentionGeometry& geo, int64_t onnx_opset) {
  AttentionFusionPlan plan;
  auto refuse = [&](std::string why) {
    plan = {};
    plan.why_not = std::move(why);
    return plan;
  };
  if (auto why = refuse_attention_rewrite(graph, io.kv.size(), io.position_ids.has_value(), geo, onnx_opset))
    return refuse(*why);

  const Matcher m(graph);
  std::string why;
  const auto layers = match_layers(m, io.kv, why);
  if (layers.empty()) return refuse(why);

  const std::string& positions = *io.position_ids;
  GraphEdit& edit = plan.edit;
  if (auto why = add_rope_tables(m, layers[0], positions, geo, edit)) return refuse(*why);
  const int64_t group = geo.num_heads / geo.kv_heads;
  auto add_initializer = [&](const std::string& name, std::string tensor) {
    edit.added_initializers.emplace(name, std::move(tensor));
  };
  add_initializer("ortlm/axis_1", encode_int64_tensor("ortlm/axis_1", {1}));
  add_initializer("ortlm/axis_2", encode_int64_tensor("ortlm/axis_2", {2}));
  add_initializer(
      "ortlm/query_groups_shape",
      encode_int64_tensor("ortlm/query_groups_shape", {0, geo.kv_heads, group, -1, geo.head_size}));
  add_initializer(
      "ortlm/query_by_position_shape",
      encode_int64_tensor("ortlm/query_by_position_shape", {0, 0, geo.kv_heads, group, geo.head_size}));
  add_initializer("ortlm/kv_heads_shape",
                  encode_int64_tensor("ortlm/kv_heads_shape", {0, 0, geo.kv_heads, geo.head_size}));
  add_initializer("ortlm/output_shape",
                  encode_int64_tensor("ortlm/output_shape", {0, 0, geo.num_heads * geo.head_size}));
  edit.opsets[kMs] = 1;
  std::map<std::string, std::string> masks;  // original mask -> its [batch, 1, 1, seq, total] view
  auto rotary = [&](const std::string& x, const std::string& out) {
    return make_node("RotaryEmbedding", {x, positions, "ortlm/rope_cos", "ortlm/rope_sin"}, {out}, kMs);
  };
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerMatch& lm = layers[l];
    const KvTensors& kv = io.kv[l];
    const std::string p = "ortlm/layer" + std::to_string(l) + "/";
    if (!masks.count(lm.mask)) {
      const std::string mask5 = "ortlm/mask" + std::to_string(masks.size());
      edit.added.push_back(make_node("Unsqueeze", {lm.mask, "ortlm/axis_1"}, {mask5}));
      masks[lm.mask] = mask5;
    }
    edit.removed.insert(lm.key_rotary_node);
    edit.removed.insert(lm.output_node);
    edit.added.push_back(rotary(lm.key.x, lm.key_rotated));
    // Key and value heads split by a constant shape, so the shape arithmetic the export computes
    // from Shape(input_ids) at every step is no longer needed.
    for (const std::string& heads : {lm.key.x, lm.value_heads}) {
      const auto* transpose = m.producer(heads);
      if (!transpose || !transpose->is("Transpose")) continue;
      const auto reshape = m.producer_index(transpose->inputs.at(0));
      if (!reshape || !graph.nodes()[*reshape].is("Reshape")) continue;
      edit.removed.insert(*reshape);
      edit.added.push_back(make_node("Reshape",
                                     {graph.nodes()[*reshape].inputs.at(0), "ortlm/kv_heads_shape"},
                                     {transpose->inputs.at(0)}));
    }
    // Query heads grouped by the KV head they share: [batch, kv_heads, group, seq, head_size], so
    // one broadcasting MatMul serves a whole group without repeating the cache. When the heads
    // come from a Reshape of the projection, RoPE runs on the projection itself ([batch, seq,
    // hidden]) and one Transpose puts the groups first.
    const auto* heads = m.producer(m.producer(lm.query.x)->inputs.at(0));
    if (heads && heads->is("Reshape")) {
      GraphNode query_rotary = rotary(heads->inputs.at(0), p + "query_rotated");
      query_rotary.attributes.push_back(int_attribute("num_heads", geo.num_heads));
      edit.added.push_back(std::move(query_rotary));
      edit.added.push_back(make_node("Reshape", {p + "query_rotated", "ortlm/query_by_position_shape"},
                                     {p + "query_by_position"}));
      GraphNode to_groups = make_node("Transpose", {p + "query_by_position"}, {p + "query"});
      to_groups.attributes.push_back(ints_attribute("perm", {0, 2, 3, 1, 4}));
      edit.added.push_back(std::move(to_groups));
    } else {
      edit.added.push_back(rotary(lm.query.x, p + "query_rotated"));
      edit.added.push_back(
          make_node("Reshape", {p + "query_rotated", "ortlm/query_groups_shape"}, {p + "query"}));
    }
    edit.added.push_back(make_node("Unsqueeze", {kv.present_key, "ortlm/axis_2"}, {p + "keys"}));
    edit.added.push_back(make_node("Unsqueeze", {kv.present_value, "ortlm/axis_2"}, {p + "values"}));
    GraphNode scores = make_node("FusedMatMul", {p + "query", p + "keys"}, {p + "scores"}, kMs);
    scores.attributes.push_back(int_attribute("transB", 1));
    scores.attributes.push_back(
        float_attribute("alpha", static_cast<float>(1.0 / std::sqrt(static_cast<double>(geo.head_size)))));
    edit.added.push_back(std::move(scores));
    edit.added.push_back(make_node("Add", {p + "scores", masks[lm.mask]}, {p + "masked_scores"}));
    GraphNode softmax = make_node("Softmax", {p + "masked_scores"}, {p + "probs"});
    softmax.attributes.push_back(int_attribute("axis", -1));
    edit.added.push_back(std::move(softmax));
    edit.added.push_back(make_node("MatMul", {p + "probs", p + "values"}, {p + "context"}));
    GraphNode transpose = make_node("Transpose", {p + "context"}, {p + "context_by_position"});
    transpose.attributes.push_back(ints_attribute("perm", {0, 3, 1, 2, 4}));
    edit.added.push_back(std::move(transpose));
    edit.added.push_back(
        make_node("Reshape", {p + "context_by_position", "ortlm/output_shape"}, {lm.output}));
  }
  plan.layers = layers.size();
  return plan;
}

}  // namespace ortlm::graph
