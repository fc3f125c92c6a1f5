#include "graph/passes/attention_match.hpp"

#include <algorithm>
#include <cmath>

namespace ortlm::graph {

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

namespace {

// The rotary tables' size bound, in floats per table (16 MiB: a context of 131,072 positions with a
// head size of 64).
constexpr int64_t kMaxRotaryTableFloats = int64_t{1} << 22;

}  // namespace

std::optional<std::string> add_rope_tables(const Matcher& m, const LayerMatch& first,
                                           const std::string& positions, const AttentionGeometry& geo,
                                           GraphEdit& edit) {
  // The rotary tables cover every usable position (RotaryEmbedding indexes them by position id), so
  // they grow with the context length: past a bound the exported graph is kept instead, which
  // computes the rotation itself. Checked before anything is allocated.
  const int64_t half = std::max<int64_t>(geo.head_size / 2, 1);
  if (geo.max_positions > kMaxRotaryTableFloats / half) {
    const double mib =
        2.0 * static_cast<double>(geo.max_positions) * static_cast<double>(half) * sizeof(float);
    return "rotary tables for a context of " + std::to_string(geo.max_positions) + " positions would take " +
           std::to_string(static_cast<int64_t>(mib / (1 << 20))) + " MiB (at most " +
           std::to_string(2 * kMaxRotaryTableFloats * int64_t{sizeof(float)} >> 20) + " MiB)";
  }
  auto cos = m.gathered_table(first.key.cos, positions, geo.head_size, geo.max_positions);
  auto sin = m.gathered_table(first.key.sin, positions, geo.head_size, geo.max_positions);
  if (!cos || !sin) {
    auto [computed_cos, computed_sin] = rope_tables(geo);
    cos = std::move(computed_cos);
    sin = std::move(computed_sin);
  }
  const std::vector<int64_t> dims{geo.max_positions, geo.head_size / 2};
  edit.added_initializers.emplace("ortlm/rope_cos", encode_float_tensor("ortlm/rope_cos", dims, *cos));
  edit.added_initializers.emplace("ortlm/rope_sin", encode_float_tensor("ortlm/rope_sin", dims, *sin));
  return std::nullopt;
}

GraphNode make_node(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                    std::string domain) {
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

std::vector<LayerMatch> match_layers(const Matcher& m, const std::vector<KvTensors>& kv, std::string& why) {
  std::vector<LayerMatch> layers;
  for (size_t l = 0; l < kv.size(); ++l) {
    std::string layer_why;
    auto match = match_layer(m, kv[l], layer_why);
    if (!match) {
      why = "layer " + std::to_string(l) + ": " + layer_why;
      return {};
    }
    layers.push_back(std::move(*match));
  }
  return layers;
}

std::optional<std::string> refuse_attention_rewrite(const OnnxGraph& graph, size_t layers,
                                                    bool has_position_ids, const AttentionGeometry& geo,
                                                    int64_t onnx_opset) {
  if (layers == 0) return "the graph has no KV cache";
  if (graph.has_subgraphs()) return "the graph has subgraphs (If/Loop)";
  for (const auto& node : graph.nodes())
    for (const char* fused : {"GroupQueryAttention", "MultiHeadAttention", "Attention", "SparseAttention"})
      if (node.op_type == fused) return "the attention is already one operator (" + node.op_type + ")";
  if (!has_position_ids) return "the graph has no position_ids input";
  if (onnx_opset < 13) return "ONNX opset " + std::to_string(onnx_opset) + " (13 or later needed)";
  if (!geo.plain_rope) return "rope_scaling or partial rotary embedding";
  if (geo.num_heads <= 0 || geo.kv_heads <= 0 || geo.num_heads % geo.kv_heads != 0 ||
      geo.head_size % 2 != 0 || geo.max_positions <= 0)
    return "attention heads or head size unknown or inconsistent in config.json";
  return std::nullopt;
}

}  // namespace ortlm::graph
