#include "graph/passes/paged_attention.hpp"

#include <cmath>
#include <cstring>

#include "graph/onnx_fields.hpp"
#include "graph/passes/attention_match.hpp"
#include "ortlm/error.hpp"

namespace ortlm::graph {
namespace {

// TensorProto.DataType values of the inputs and outputs the rewrite declares.
constexpr int32_t kFloat = 1, kInt32 = 6, kInt64 = 7;

// The projection [batch, seq, heads * head_size] that `heads` ([batch, heads, seq, head_size]) is a
// Transpose(Reshape(...)) of, or "" when it is computed otherwise.
std::string projection_of(const Matcher& m, const std::string& heads) {
  const auto* transpose = m.producer(heads);
  if (!transpose || !transpose->is("Transpose") || !Matcher::has_ints(*transpose, "perm", {0, 2, 1, 3}))
    return {};
  const auto* reshape = m.producer(transpose->inputs.at(0));
  return reshape && reshape->is("Reshape") ? reshape->inputs.at(0) : std::string();
}

// Whether `value` is computed from graph inputs (weights are initializers, or computed from them only).
bool reads_graph_input(const OnnxGraph& graph, const Matcher& m, const std::string& value) {
  return m.walk_back(value, [&](const std::string& v) {
    return graph.has_input(v) ? Matcher::Step::stop : Matcher::Step::expand;
  });
}

// A product of its first input (the hidden states, [1, T, hidden]) and weights, row by row: the
// rows can be gathered before it.
bool is_lm_head_product(const GraphNode& node) {
  if (node.inputs.size() < 2) return false;
  if (node.is("MatMul")) return node.inputs.size() == 2;
  if (node.is("MatMulNBits", kMicrosoftDomain)) return true;
  if (!node.is("FusedMatMul", kMicrosoftDomain) || node.inputs.size() != 2) return false;
  for (const char* name : {"transA", "transBatchA", "transBatchB"})  // rows stay rows
    if (const auto* a = node.attribute(name); a && a->i && *a->i != 0) return false;
  return true;
}

// The stacked projection [.., (heads + 2 kv_heads) x head_size] that `query`, `key` and `value` are
// split from along the last axis, in that order (one MatMulNBits and a Split, as `ortlm quantize` and
// onnxruntime-genai write q/k/v), or "".
std::string stacked_projection(const OnnxGraph& graph, const std::string& query, const std::string& key,
                               const std::string& value, const AttentionGeometry& geo) {
  const auto index = graph.producer(query);
  if (!index) return {};
  const GraphNode& split = graph.nodes()[*index];
  const auto* axis = split.attribute("axis");
  if (!split.is("Split") || split.outputs != std::vector{query, key, value} || !axis || !axis->i ||
      *axis->i != -1)
    return {};
  std::vector<int64_t> sizes;
  if (const auto* a = split.attribute("split")) sizes = a->ints;
  if (split.inputs.size() > 1 && !split.inputs[1].empty()) {
    if (!graph.is_initializer(split.inputs[1])) return {};
    const auto t = graph.tensor(split.inputs[1]);
    if (t.data_type != onnx::kInt64 || t.raw.size() != 3 * sizeof(int64_t)) return {};
    sizes.resize(3);
    std::memcpy(sizes.data(), t.raw.data(), t.raw.size());
  }
  const int64_t q = geo.num_heads * geo.head_size, kv = geo.kv_heads * geo.head_size;
  return sizes == std::vector<int64_t>{q, kv, kv} ? split.inputs.at(0) : std::string();
}

}  // namespace

PagedAttentionPlan plan_paged_attention(const OnnxGraph& graph, const PagedAttentionIo& io,
                                        const AttentionGeometry& geo, int64_t onnx_opset) {
  PagedAttentionPlan plan;
  auto refuse = [&](std::string why) {
    plan = {};
    plan.why_not = std::move(why);
    return plan;
  };
  if (auto why = refuse_attention_rewrite(graph, io.kv.size(), !io.position_ids.empty(), geo, onnx_opset))
    return refuse(*why);
  // The op is registered with the rewritten session only; a graph naming it itself would feed it
  // inputs of its own choosing.
  for (const auto& node : graph.nodes())
    if (node.domain == paged::kDomain) return refuse("the graph already has " + node.domain + " operators");
  if (io.vocab_size <= 0) return refuse("the vocabulary size (logits' last dim) is unknown");

  const Matcher m(graph);
  std::string why;
  const auto layers = match_layers(m, io.kv, why);
  if (layers.empty()) return refuse(why);

  // The logits must be a matrix product of the hidden states and weights (MatMul; MatMulNBits when the
  // LM head is quantized; FusedMatMul when it reads the tied embedding) so that the hidden states are
  // gathered before it.
  const auto logits_node = m.producer_index(io.logits);
  const GraphNode* head = io.lm_head ? &*io.lm_head : logits_node ? &graph.nodes()[*logits_node] : nullptr;
  if (!logits_node || !head || !is_lm_head_product(*head) || head->outputs != std::vector{io.logits})
    return refuse("the logits are not MatMul(hidden states, weights)");
  for (size_t i = 1; i < head->inputs.size(); ++i)
    if (!head->inputs[i].empty() && reads_graph_input(graph, m, head->inputs[i]))
      return refuse("the logits' weights are computed from the graph's inputs");

  GraphEdit& edit = plan.edit;
  if (auto rope_why = add_rope_tables(m, layers[0], io.position_ids, geo, edit)) return refuse(*rope_why);
  edit.opsets[kMicrosoftDomain] = 1;
  edit.opsets[paged::kDomain] = 1;
  const float scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(geo.head_size)));
  for (size_t l = 0; l < layers.size(); ++l) {
    const LayerMatch& lm = layers[l];
    const std::string query = projection_of(m, lm.query.x), key = projection_of(m, lm.key.x),
                      value = projection_of(m, lm.value_heads);
    if (query.empty() || key.empty() || value.empty())
      return refuse("layer " + std::to_string(l) +
                    ": the query, key or value heads are not Transpose(Reshape(projection))");
    // The operator rotates the queries and keys itself (RoPE by each token's position in its row), and
    // reads a stacked q/k/v projection whole (its Split is then unused).
    const std::string stacked = stacked_projection(graph, query, key, value, geo);
    GraphNode attention = make_node(paged::kOp,
                                    {stacked.empty() ? query : stacked, stacked.empty() ? key : "",
                                     stacked.empty() ? value : "", paged::kRowStarts, paged::kCachedLengths,
                                     paged::kBlockTables, paged::kKvPool, "ortlm/rope_cos", "ortlm/rope_sin"},
                                    {lm.output}, paged::kDomain);
    plan.stacked_projections += !stacked.empty();
    attention.attributes.push_back(int_attribute("layer", static_cast<int64_t>(l)));
    attention.attributes.push_back(int_attribute("num_heads", geo.num_heads));
    attention.attributes.push_back(int_attribute("kv_heads", geo.kv_heads));
    attention.attributes.push_back(int_attribute("head_size", geo.head_size));
    attention.attributes.push_back(float_attribute("scale", scale));
    edit.added.push_back(std::move(attention));
    edit.removed.insert(lm.output_node);
    const KvTensors& kv = io.kv[l];
    edit.removed_inputs.insert({kv.past_key, kv.past_value});
    edit.removed_outputs.insert({kv.present_key, kv.present_value});
  }

  // Only the wanted positions reach the output projection: [1, T, hidden] -> [1, N, hidden].
  GraphNode gather = make_node("Gather", {head->inputs[0], paged::kLogitsIndex}, {"ortlm/wanted_hidden"});
  gather.attributes.push_back(int_attribute("axis", 1));
  edit.added.push_back(std::move(gather));
  GraphNode wanted_logits = *head;
  wanted_logits.encoded = {};
  wanted_logits.inputs[0] = "ortlm/wanted_hidden";
  edit.added.push_back(std::move(wanted_logits));
  edit.removed.insert(*logits_node);
  edit.removed_outputs.insert(io.logits);
  edit.added_outputs.push_back({io.logits, kFloat, {1, -1, io.vocab_size}, {"", "logits_positions", ""}});

  if (io.attention_mask) edit.removed_inputs.insert(*io.attention_mask);
  edit.added_inputs = {
      {paged::kRowStarts, kInt32, {-1}, {"rows_plus_one"}},
      {paged::kCachedLengths, kInt32, {-1}, {"rows"}},
      {paged::kBlockTables, kInt32, {-1, -1}, {"rows", "max_blocks"}},
      {paged::kKvPool, kInt64, {1}, {}},
      {paged::kLogitsIndex, kInt64, {-1}, {"logits_positions"}},
  };
  // Anything the rewritten graph still computes from the past KV or the mask (a position computation
  // from the mask, a shape read off the past) leaves it reading a removed input: refused.
  try {
    graph.node_count(edit);
  } catch (const Error& e) {
    return refuse(std::string("the rewritten graph is incomplete: ") + e.what());
  }
  plan.layers = layers.size();
  return plan;
}

}  // namespace ortlm::graph
