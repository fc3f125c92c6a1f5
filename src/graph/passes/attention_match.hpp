#pragma once
// What the load-time attention rewrites (attention_fusion, paged_attention) share: reading a
// Llama-family layer's attention out of an exported graph (HF's rotate-half RoPE, Concat(past, new)
// KV, Softmax(scores + mask) @ values), and the helpers that make the nodes replacing it.
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "graph/onnx_graph.hpp"
#include "graph/passes/attention_fusion.hpp"

namespace ortlm::graph {

inline constexpr const char* kMicrosoftDomain = "com.microsoft";

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

  // The node producing `value`, when it is of `type` and `value` is read by one node only (and is not
  // a graph output): a node a rewrite can drop with the one that reads it.
  const GraphNode* sole_producer(const std::string& value, const char* type) const {
    const auto* p = producer(value);
    return p && p->is(type) && g_.consumers(value).size() == 1 && !g_.has_output(value) ? p : nullptr;
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

// One layer's attention, as found in the graph.
struct LayerMatch {
  Matcher::Rotary query, key;
  std::string key_rotated;  // the rotary output the present-key Concat appends
  std::string value_heads;  // what the present-value Concat appends: [batch, kv_heads, seq, head_size]
  std::string mask;         // additive [batch, 1, seq, total] bias added to the scores
  std::string output;       // [batch, seq, heads * head_size], what the output projection reads
  size_t key_rotary_node = 0, output_node = 0;
};

// cos/sin tables [positions, head_size/2] the way transformers computes them (float32 inv_freq
// and angles), for graphs that compute RoPE from position_ids instead of gathering a table.
std::pair<std::vector<float>, std::vector<float>> rope_tables(const AttentionGeometry& geo);

// Adds the initializers "ortlm/rope_cos" and "ortlm/rope_sin" ([max_positions, head_size/2]) that
// com.microsoft RotaryEmbedding reads: the graph's own tables when `first` gathers them by
// `positions`, else computed. Returns why not when they would be too large.
std::optional<std::string> add_rope_tables(const Matcher& m, const LayerMatch& first,
                                           const std::string& positions, const AttentionGeometry& geo,
                                           GraphEdit& edit);

// A node named after its first output ("ortlm/<output>").
GraphNode make_node(std::string op_type, std::vector<std::string> inputs, std::vector<std::string> outputs,
                    std::string domain = {});
NodeAttribute int_attribute(const char* name, int64_t value);
NodeAttribute float_attribute(const char* name, float value);
NodeAttribute ints_attribute(const char* name, std::vector<int64_t> values);

std::optional<LayerMatch> match_layer(const Matcher& m, const KvTensors& kv, std::string& why);
// Every layer's match, or none with `why` naming the first layer that does not match.
std::vector<LayerMatch> match_layers(const Matcher& m, const std::vector<KvTensors>& kv, std::string& why);

// Why a rewrite of this graph's attention is refused before matching anything (no KV cache, subgraphs,
// attention already one operator, no position ids, an old opset, RoPE variants, unknown geometry).
std::optional<std::string> refuse_attention_rewrite(const OnnxGraph& graph, size_t layers,
                                                    bool has_position_ids, const AttentionGeometry& geo,
                                                    int64_t onnx_opset);

}  // namespace ortlm::graph
