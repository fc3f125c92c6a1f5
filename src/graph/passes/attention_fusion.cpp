#include "graph/passes/attention_fusion.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

namespace ortlm::graph {
namespace {

constexpr const char* kMs = "com.microsoft";

// Reading the graph: producers, consumers and the few node shapes the patterns are made of.
class Matcher {
 public:
  explicit Matcher(const OnnxGraph& g) : g_(g) {}

  const GraphNode* producer(const std::string& value) const {
    auto p = g_.producer(value);
    return p ? &g_.nodes()[*p] : nullptr;
  }
  std::optional<size_t> producer_index(const std::string& value) const { return g_.producer(value); }
  std::vector<const GraphNode*> consumers(const std::string& value) const {
    std::vector<const GraphNode*> out;
    for (size_t i : g_.consumers(value)) out.push_back(&g_.nodes()[i]);
    return out;
  }

  bool produced_by(const std::string& value, const char* type) const {
    const auto* p = producer(value);
    return p && p->is(type);
  }

  static bool has_ints(const GraphNode& n, const char* name, std::initializer_list<int64_t> expected) {
    const auto* a = n.attribute(name);
    return a && std::vector<int64_t>(expected) == a->ints;
  }

  // What walk_back does after visiting a value: look at what it is computed from, or not, or end.
  enum class Step { expand, skip, stop };

  // Visits `from` and the values it is computed from, each once, depth first. Returns whether
  // `visit` ended the walk.
  template <typename Visit>
  bool walk_back(const std::string& from, Visit visit) const {
    std::set<std::string> seen;
    std::vector<std::string> stack{from};
    while (!stack.empty()) {
      std::string v = std::move(stack.back());
      stack.pop_back();
      if (!seen.insert(v).second) continue;
      const Step step = visit(v);
      if (step == Step::stop) return true;
      if (step == Step::skip) continue;
      if (const auto* p = producer(v)) stack.insert(stack.end(), p->inputs.begin(), p->inputs.end());
    }
    return false;
  }

  // Whether `value` is computed (directly or not) from `target`; the search stops at `barrier`.
  bool depends_on(const std::string& value, const std::string& target,
                  const std::string& barrier = {}) const {
    return walk_back(value, [&](const std::string& v) {
      if (v == target) return Step::stop;
      return v == barrier ? Step::skip : Step::expand;
    });
  }

  // Follows `value` through single-consumer nodes of the given types; returns the last value.
  std::string forward_through(std::string value, std::initializer_list<const char*> types) const {
    for (;;) {
      const auto& users = g_.consumers(value);
      if (users.size() != 1) return value;
      const auto& n = g_.nodes()[users.front()];
      bool passes = false;
      for (const char* t : types) passes = passes || n.is(t);
      if (!passes || n.inputs.empty() || n.inputs[0] != value) return value;
      value = n.outputs.at(0);
    }
  }

  // Follows `value` back through the data input of nodes of the given types.
  std::string back_through(std::string value, std::initializer_list<const char*> types) const {
    for (;;) {
      const auto* p = producer(value);
      bool passes = false;
      for (const char* t : types) passes = passes || (p && p->is(t));
      if (!passes) return value;
      value = p->inputs.at(0);
    }
  }

  // HF's rotate-half RoPE: Add(Mul(x, cos), Mul(Concat(Neg(x2), x1), sin)) with x the output of a
  // [0, 2, 1, 3] Transpose (heads first). Returns x, cos and sin.
  struct Rotary {
    std::string x, cos, sin;
  };
  std::optional<Rotary> rotary(const std::string& value) const {
    const auto* add = producer(value);
    if (!add || !add->is("Add") || add->inputs.size() != 2) return std::nullopt;
    const auto* m0 = producer(add->inputs[0]);
    const auto* m1 = producer(add->inputs[1]);
    if (!m0 || !m1 || !m0->is("Mul") || !m1->is("Mul")) return std::nullopt;
    for (auto [direct, rotated] : {std::pair{m0, m1}, std::pair{m1, m0}}) {
      for (int i = 0; i < 2; ++i) {
        const std::string& x = direct->inputs[i];
        const auto* t = producer(x);
        if (!t || !t->is("Transpose") || !has_ints(*t, "perm", {0, 2, 1, 3})) continue;
        for (int j = 0; j < 2; ++j) {
          const auto* cat = producer(rotated->inputs[j]);
          if (!cat || !cat->is("Concat") || cat->inputs.size() != 2 || !produced_by(cat->inputs[0], "Neg"))
            continue;
          if (!depends_on(cat->inputs[0], x) || !depends_on(cat->inputs[1], x)) continue;
          return Rotary{x, direct->inputs[1 - i], rotated->inputs[1 - j]};
        }
      }
    }
    return std::nullopt;
  }

  // The rotary Add nodes computing `value`'s inputs, searched back from it; `barrier` not crossed.
  std::vector<std::string> rotaries_before(const std::string& value, const std::string& barrier) const {
    std::vector<std::string> found;
    walk_back(value, [&](const std::string& v) {
      if (v == barrier) return Step::skip;
      if (!rotary(v)) return Step::expand;
      found.push_back(v);
      return Step::skip;
    });
    return found;
  }

  // The float32 table gathered by position in a rotary cos/sin input, as [positions, head_size/2]:
  // Gather(table, position_ids) with table [P, D] (D = head_size, halves equal) or [P, D/2].
  std::optional<std::vector<float>> gathered_table(const std::string& value, const std::string& positions,
                                                   int64_t head_size, int64_t rows) const {
    std::optional<std::vector<float>> table;
    walk_back(value, [&](const std::string& v) {
      const auto* p = producer(v);
      if (!p || !p->is("Gather") || p->inputs.size() != 2 || p->inputs[1] != positions) return Step::expand;
      table = half_table(p->inputs[0], head_size, rows);
      return Step::stop;
    });
    return table;
  }

 private:
  std::optional<std::vector<float>> half_table(const std::string& name, int64_t head_size,
                                               int64_t rows) const {
    auto t = g_.float_initializer(name);
    if (!t || t->dims.size() != 2 || t->dims[0] < rows) return std::nullopt;
    const int64_t width = t->dims[1], half = head_size / 2;
    if (width != head_size && width != half) return std::nullopt;
    std::vector<float> out(static_cast<size_t>(rows * half));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < half; ++i) {
        const float a = t->values[static_cast<size_t>(r * width + i)];
        if (width == head_size && a != t->values[static_cast<size_t>(r * width + half + i)])
          return std::nullopt;
        out[static_cast<size_t>(r * half + i)] = a;
      }
    }
    return out;
  }

  const OnnxGraph& g_;
};

// The rotary tables' size bound, in floats per table (16 MiB: a context of 131,072 positions with a
// head size of 64).
constexpr int64_t kMaxRotaryTableFloats = int64_t{1} << 22;

// cos/sin tables [positions, head_size/2] the way transformers computes them (float32 inv_freq
// and angles), for graphs that compute RoPE from position_ids instead of gathering a table.
std::pair<std::vector<float>, std::vector<float>> rope_tables(const AttentionGeometry& geo) {
  const int64_t half = geo.head_size / 2;
  std::vector<float> cos(static_cast<size_t>(geo.max_positions * half)), sin(cos.size());
  for (int64_t i = 0; i < half; ++i) {
    const auto exponent = static_cast<float>(2 * i) / static_cast<float>(geo.head_size);
    const auto inv_freq = static_cast<float>(1.0 / std::pow(geo.rope_theta, static_cast<double>(exponent)));
    for (int64_t p = 0; p < geo.max_positions; ++p) {
      const float angle = static_cast<float>(p) * inv_freq;
      cos[static_cast<size_t>(p * half + i)] = static_cast<float>(std::cos(static_cast<double>(angle)));
      sin[static_cast<size_t>(p * half + i)] = static_cast<float>(std::sin(static_cast<double>(angle)));
    }
  }
  return {cos, sin};
}

GraphNode make_node(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                    std::string domain = {}) {
  GraphNode n;
  n.op_type = std::move(op_type);
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  n.domain = std::move(domain);
  n.name = "ortlm/" + n.outputs.front();
  return n;
}

NodeAttribute int_attribute(const char* name, int64_t value) {
  NodeAttribute a;
  a.name = name;
  a.i = value;
  return a;
}

NodeAttribute float_attribute(const char* name, float value) {
  NodeAttribute a;
  a.name = name;
  a.f = value;
  return a;
}

NodeAttribute ints_attribute(const char* name, std::vector<int64_t> values) {
  NodeAttribute a;
  a.name = name;
  a.ints = std::move(values);
  return a;
}

// One layer's attention, as found in the graph.
struct LayerMatch {
  Matcher::Rotary query, key;
  std::string key_rotated;  // the rotary output the present-key Concat appends
  std::string value_heads;  // what the present-value Concat appends: [batch, kv_heads, seq, head_size]
  std::string mask;         // additive [batch, 1, seq, total] bias added to the scores
  std::string output;       // [batch, seq, heads * head_size], what the output projection reads
  size_t key_rotary_node = 0, output_node = 0;
};

std::optional<LayerMatch> match_layer(const Matcher& m, const KvTensors& kv, std::string& why) {
  auto concat_of = [&](const std::string& present, const std::string& past) -> const GraphNode* {
    const auto* c = m.producer(present);
    if (!c || !c->is("Concat") || c->inputs.size() != 2 || c->inputs[0] != past) return nullptr;
    const auto* axis = c->attribute("axis");
    return axis && axis->i && (*axis->i == 2 || *axis->i == -2) ? c : nullptr;
  };
  const auto* key_concat = concat_of(kv.present_key, kv.past_key);
  const auto* value_concat = concat_of(kv.present_value, kv.past_value);
  if (!key_concat || !value_concat) {
    why = kv.present_key + " is not Concat(past, new) on the sequence axis";
    return std::nullopt;
  }
  LayerMatch match;
  match.key_rotated = key_concat->inputs[1];
  match.value_heads = value_concat->inputs[1];
  auto key = m.rotary(match.key_rotated);
  if (!key) {
    why = "the key's rotary embedding is not HF's rotate-half pattern";
    return std::nullopt;
  }
  match.key = *key;
  match.key_rotary_node = *m.producer_index(match.key_rotated);

  // probs @ values, the values being the present value, repeated per query head or not.
  const std::string values = m.forward_through(kv.present_value, {"Unsqueeze", "Expand", "Reshape"});
  const GraphNode* pv = nullptr;
  for (const auto& n : m.consumers(values))
    if (n->is("MatMul") && n->inputs.size() == 2 && n->inputs[1] == values) pv = n;
  const auto* softmax = pv ? m.producer(m.back_through(pv->inputs[0], {"Reshape"})) : nullptr;
  const auto* add = softmax && softmax->is("Softmax")
                        ? m.producer(m.back_through(softmax->inputs[0], {"Reshape"}))
                        : nullptr;
  if (!add || !add->is("Add") || add->inputs.size() != 2) {
    why = "no Softmax(scores + mask) @ values reading " + kv.present_value;
    return std::nullopt;
  }
  const bool first_is_scores = m.depends_on(add->inputs[0], kv.present_key);
  const std::string& scores = add->inputs[first_is_scores ? 0 : 1];
  match.mask = add->inputs[first_is_scores ? 1 : 0];
  if (!m.depends_on(scores, kv.present_key) || m.depends_on(match.mask, kv.present_key)) {
    why = "the attention scores do not read " + kv.present_key;
    return std::nullopt;
  }
  const auto queries = m.rotaries_before(scores, kv.present_key);
  if (queries.size() != 1) {
    why = "the query's rotary embedding is not HF's rotate-half pattern";
    return std::nullopt;
  }
  match.query = *m.rotary(queries.front());
  match.output = m.forward_through(pv->outputs.at(0), {"Reshape", "Transpose"});
  if (match.output == pv->outputs.at(0)) {
    why = "the attention output is not reshaped back to [batch, seq, hidden]";
    return std::nullopt;
  }
  match.output_node = *m.producer_index(match.output);
  return match;
}

}  // namespace

AttentionFusionPlan plan_attention_fusion(const OnnxGraph& graph, const AttentionIo& io,
                                          const AttentionGeometry& geo, int64_t onnx_opset) {
  AttentionFusionPlan plan;
  auto refuse = [&](std::string why) {
    plan = {};
    plan.why_not = std::move(why);
    return plan;
  };
  if (io.kv.empty()) return refuse("the graph has no KV cache");
  if (graph.has_subgraphs()) return refuse("the graph has subgraphs (If/Loop)");
  for (const auto& node : graph.nodes())
    for (const char* fused : {"GroupQueryAttention", "MultiHeadAttention", "Attention", "SparseAttention"})
      if (node.op_type == fused)
        return refuse("the attention is already one operator (" + node.op_type + ")");
  if (!io.position_ids) return refuse("the graph has no position_ids input");
  if (onnx_opset < 13) return refuse("ONNX opset " + std::to_string(onnx_opset) + " (13 or later needed)");
  if (!geo.plain_rope) return refuse("rope_scaling or partial rotary embedding");
  if (geo.num_heads <= 0 || geo.kv_heads <= 0 || geo.num_heads % geo.kv_heads != 0 ||
      geo.head_size % 2 != 0 || geo.max_positions <= 0)
    return refuse("attention heads or head size unknown or inconsistent in config.json");

  const Matcher m(graph);
  std::vector<LayerMatch> layers;
  for (size_t l = 0; l < io.kv.size(); ++l) {
    std::string why;
    auto match = match_layer(m, io.kv[l], why);
    if (!match) return refuse("layer " + std::to_string(l) + ": " + why);
    layers.push_back(std::move(*match));
  }

  // The rotary tables cover every usable position (RotaryEmbedding indexes them by position id), so
  // they grow with the context length: past a bound the exported graph is kept instead, which
  // computes the rotation itself. Checked before anything is allocated.
  const int64_t half = std::max<int64_t>(geo.head_size / 2, 1);
  if (geo.max_positions > kMaxRotaryTableFloats / half) {
    const double mib =
        2.0 * static_cast<double>(geo.max_positions) * static_cast<double>(half) * sizeof(float);
    return refuse("rotary tables for a context of " + std::to_string(geo.max_positions) +
                  " positions would take " + std::to_string(static_cast<int64_t>(mib / (1 << 20))) +
                  " MiB (at most " +
                  std::to_string(2 * kMaxRotaryTableFloats * int64_t{sizeof(float)} >> 20) + " MiB)");
  }

  const std::string& positions = *io.position_ids;
  auto cos = m.gathered_table(layers[0].key.cos, positions, geo.head_size, geo.max_positions);
  auto sin = m.gathered_table(layers[0].key.sin, positions, geo.head_size, geo.max_positions);
  if (!cos || !sin) {
    auto [computed_cos, computed_sin] = rope_tables(geo);
    cos = std::move(computed_cos);
    sin = std::move(computed_sin);
  }

  GraphEdit& edit = plan.edit;
  const int64_t group = geo.num_heads / geo.kv_heads;
  const std::vector<int64_t> table_dims{geo.max_positions, geo.head_size / 2};
  auto add_initializer = [&](const std::string& name, std::string tensor) {
    edit.added_initializers.emplace(name, std::move(tensor));
  };
  add_initializer("ortlm/rope_cos", encode_float_tensor("ortlm/rope_cos", table_dims, *cos));
  add_initializer("ortlm/rope_sin", encode_float_tensor("ortlm/rope_sin", table_dims, *sin));
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
