#include "quant/quantize_model.hpp"

#include <fnmatch.h>

#include <map>
#include <memory>
#include <optional>

#include "graph/external_data.hpp"
#include "graph/onnx_fields.hpp"
#include "graph/onnx_graph.hpp"
#include "graph/passes/lm_head_sharing.hpp"
#include "model/ort_session.hpp"
#include "ortlm/error.hpp"
#include "quant/float16.hpp"
#include "quant/nbits_packing.hpp"
#include "quant/quantized_matrix.hpp"

namespace ortlm::quant {
namespace {

namespace fs = std::filesystem;
using graph::GraphNode;
using graph::OnnxGraph;

constexpr const char* kMs = "com.microsoft";
// Models at least this large, or with external data already, are written with external data.
constexpr uintmax_t kExternalFrom = 256u << 20;
// With external data, initializers smaller than this stay inside the .onnx file.
constexpr size_t kInlineBelow = 1024;

// A weight as an operator reads it: `rows` rows (MatMul's N outputs, or the embedding's tokens)
// of `cols` values (K, the dimension quantized in blocks), stored in `initializer` either row by
// row ([rows, cols]) or transposed ([cols, rows], a MatMul's own [K, N] layout).
struct Weight {
  std::string initializer;
  bool row_major = false;
  int64_t rows = 0, cols = 0;
  std::string key() const { return initializer + (row_major ? ":rows" : ":cols"); }
};

struct Target {
  size_t node = 0;
  bool gather = false;  // GatherBlockQuantized, else MatMulNBits
  Weight weight;
  std::string input{}, bias{};  // the activation (or the indices) and MatMulNBits's optional bias
};

int64_t attribute_or(const GraphNode& n, const char* name, int64_t fallback) {
  const auto* a = n.attribute(name);
  return a && a->i ? *a->i : fallback;
}

bool excluded(const std::vector<std::string>& patterns, const std::string& node, const std::string& weight) {
  for (const auto& p : patterns)
    if (::fnmatch(p.c_str(), node.c_str(), 0) == 0 || ::fnmatch(p.c_str(), weight.c_str(), 0) == 0)
      return true;
  return false;
}

class Planner {
 public:
  Planner(const OnnxGraph& g, const QuantizeOptions& o) : g_(g), o_(o) {}

  std::vector<Target> plan(std::vector<std::string>& notes) {
    find_embedding();
    std::vector<Target> targets;
    for (size_t i = 0; i < g_.nodes().size(); ++i) {
      const GraphNode& n = g_.nodes()[i];
      const std::string& name = n.name.empty() ? n.outputs.at(0) : n.name;  // exports often leave names empty
      const std::string label = n.op_type + " '" + name + "'";
      std::string why_not;
      std::optional<Target> t;
      if (n.is("MatMul"))
        t = matmul(i, why_not);
      else if (n.is("Gemm"))
        t = gemm(i, why_not);
      else if (n.is("Gather") && o_.embeddings && embedding_ && *embedding_ == i)
        t = Target{.node = i, .gather = true, .weight = embedding_weight_, .input = n.inputs.at(1)};
      else
        continue;
      if (!t) {
        notes.push_back(label + " kept: " + why_not);
        continue;
      }
      if (excluded(o_.exclude, name, t->weight.initializer)) {
        notes.push_back(label + " kept: excluded by --exclude");
        continue;
      }
      if (!t->gather && is_lm_head(n, t->weight)) {
        if (!o_.lm_head) {
          notes.push_back(label + " kept: the LM head stays float32 unless --lm-head is given");
          continue;
        }
        tie_to_embedding(t->weight, notes, label);
      }
      targets.push_back(std::move(*t));
    }
    return targets;
  }

 private:
  // The 2-D float32 initializer `name`, or why it cannot be quantized.
  std::optional<graph::TensorData> float_matrix(const std::string& name, std::string& why_not) const {
    if (!g_.is_initializer(name)) {
      why_not = "its weight '" + name + "' is not a constant initializer";
      return std::nullopt;
    }
    auto t = g_.tensor(name);
    if (t.data_type != graph::onnx::kFloat32 || t.dims.size() != 2) {
      why_not = "its weight '" + name + "' is not a 2-D float32 matrix";
      return std::nullopt;
    }
    return t;
  }

  // The weight of a MatMul-like node: the initializer itself ([K, N]), or one under a 2-D Transpose.
  std::optional<Weight> weight_of(const std::string& b, bool transposed, std::string& why_not) const {
    std::string source = b;
    if (!g_.is_initializer(b)) {
      if (auto p = g_.producer(b)) {
        const GraphNode& t = g_.nodes()[*p];
        const auto* perm = t.attribute("perm");
        if (t.is("Transpose") && (!perm || perm->ints == std::vector<int64_t>{1, 0})) {
          source = t.inputs.at(0);
          transposed = !transposed;
        }
      }
    }
    const auto t = float_matrix(source, why_not);
    if (!t) return std::nullopt;
    Weight w{.initializer = source, .row_major = transposed};
    w.rows = transposed ? t->dims[0] : t->dims[1];
    w.cols = transposed ? t->dims[1] : t->dims[0];
    return w;
  }

  std::optional<Target> matmul(size_t i, std::string& why_not) const {
    const GraphNode& n = g_.nodes()[i];
    auto w = weight_of(n.inputs.at(1), false, why_not);
    if (!w) return std::nullopt;
    return Target{.node = i, .weight = *w, .input = n.inputs.at(0)};
  }

  std::optional<Target> gemm(size_t i, std::string& why_not) const {
    const GraphNode& n = g_.nodes()[i];
    const auto* alpha = n.attribute("alpha");
    const auto* beta = n.attribute("beta");
    if ((alpha && alpha->f && *alpha->f != 1.0f) || (beta && beta->f && *beta->f != 1.0f) ||
        attribute_or(n, "transA", 0) != 0) {
      why_not = "alpha, beta or transA is not the default";
      return std::nullopt;
    }
    auto w = weight_of(n.inputs.at(1), attribute_or(n, "transB", 0) != 0, why_not);
    if (!w) return std::nullopt;
    Target t{.node = i, .weight = *w, .input = n.inputs.at(0)};
    if (n.inputs.size() > 2 && !n.inputs[2].empty()) {
      const auto c = g_.is_initializer(n.inputs[2]) ? std::optional(g_.tensor(n.inputs[2])) : std::nullopt;
      if (!c || c->data_type != graph::onnx::kFloat32 || c->dims != std::vector<int64_t>{w->rows}) {
        why_not = "its bias is not a constant float32 vector of N";
        return std::nullopt;
      }
      t.bias = n.inputs[2];
    }
    return t;
  }

  void find_embedding() {
    embedding_ = graph::find_token_embedding(g_);
    if (!embedding_) return;
    const std::string& name = g_.nodes()[*embedding_].inputs[0];
    const auto dims = g_.tensor(name).dims;
    embedding_weight_ = Weight{.initializer = name, .row_major = true, .rows = dims[0], .cols = dims[1]};
  }

  bool is_lm_head(const GraphNode& n, const Weight& w) const {
    if (embedding_ && w.initializer == embedding_weight_.initializer) return true;
    for (const auto& out : n.outputs)
      if (g_.has_output(out)) return true;
    return embedding_ && w.rows == embedding_weight_.rows && w.cols == embedding_weight_.cols;
  }

  // An LM head stored as its own transposed copy of the embedding is quantized from the embedding,
  // once for both.
  void tie_to_embedding(Weight& w, std::vector<std::string>& notes, const std::string& label) const {
    if (!embedding_ || w.initializer == embedding_weight_.initializer || w.row_major ||
        w.rows != embedding_weight_.rows || w.cols != embedding_weight_.cols)
      return;
    const auto head = g_.tensor(w.initializer).floats();
    const auto embedding = g_.tensor(embedding_weight_.initializer).floats();
    for (int64_t r = 0; r < w.rows; ++r)
      for (int64_t c = 0; c < w.cols; ++c)
        if ((*head)[static_cast<size_t>(c * w.rows + r)] != (*embedding)[static_cast<size_t>(r * w.cols + c)])
          return;
    notes.push_back(label + ": its weight is the transposed embedding; quantized once, from the embedding");
    w = embedding_weight_;
  }

  const OnnxGraph& g_;
  const QuantizeOptions& o_;
  std::optional<size_t> embedding_;
  Weight embedding_weight_;
};

// Adds initializers to the edit, into the external data file when there is one.
class InitializerSink {
 public:
  InitializerSink(graph::GraphEdit& edit, const std::optional<fs::path>& data_file) : edit_(edit) {
    if (data_file) writer_.emplace(*data_file);
  }
  void add(const std::string& name, const std::vector<int64_t>& dims, uint64_t type, std::string_view raw) {
    edit_.added_initializers[name] = writer_ && raw.size() >= kInlineBelow
                                         ? writer_->add(name, dims, type, raw)
                                         : graph::encode_raw_tensor(name, dims, type, raw);
  }
  bool external() const { return writer_.has_value(); }
  void finish() {
    if (writer_) writer_->finish();
  }

 private:
  graph::GraphEdit& edit_;
  std::optional<graph::ExternalDataWriter> writer_;
};

std::string_view bytes_of(const std::vector<float>& v) {
  return {reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)};
}

graph::NodeAttribute int_attribute(const char* name, int64_t v) {
  graph::NodeAttribute a;
  a.name = name;
  a.i = v;
  return a;
}

// MatMulNBits reading the same activation (a layer's q, k and v projections; gate and up) are written
// as one with their rows stacked, followed by a Split: fewer and larger operators, which decode
// faster on several threads. Every row and block is as it would be alone, so the results are too.
// Groups of target indices (two or more each); weights used elsewhere too and biased nodes stay apart.
std::vector<std::vector<size_t>> stacking_groups(const std::vector<Target>& targets,
                                                 const std::map<std::string, size_t>& uses) {
  std::map<std::pair<std::string, int64_t>, std::vector<size_t>> by_input;  // (activation, K)
  for (size_t i = 0; i < targets.size(); ++i) {
    const Target& t = targets[i];
    if (!t.gather && t.bias.empty() && uses.at(t.weight.key()) == 1)
      by_input[{t.input, t.weight.cols}].push_back(i);
  }
  std::vector<std::vector<size_t>> groups;
  for (auto& [input, members] : by_input)
    if (members.size() > 1) groups.push_back(std::move(members));
  return groups;
}

// The rows of several MatMulNBits, stacked as they are added (the packed layouts are row-major in N).
struct StackedWeights {
  PackedWeights packed;
  std::vector<int64_t> rows;         // each member's N: the Split's sizes
  std::vector<std::string> outputs;  // each member's output, in order
  void add(const PackedWeights& p, int64_t n, const std::string& output) {
    if (rows.empty())
      packed = p;
    else {
      packed.data += p.data;
      packed.scales.insert(packed.scales.end(), p.scales.begin(), p.scales.end());
      packed.zero_points += p.zero_points;
      for (auto* dims : {&packed.data_dims, &packed.scales_dims, &packed.zero_points_dims})
        if (!dims->empty()) dims->front() += n;
    }
    rows.push_back(n);
    outputs.push_back(output);
  }
};

}  // namespace

QuantizeResult quantize_model(const fs::path& in_onnx, const fs::path& out_onnx,
                              const QuantizeOptions& options) {
  const BlockFormat& format = options.format;
  if (format.bits != 4 && format.bits != 8)
    throw Error("--bits must be 4 or 8, not " + std::to_string(format.bits));
  if (format.block_size < 16 || format.block_size > 128 || (format.block_size & (format.block_size - 1)))
    throw Error("--block must be 16, 32, 64 or 128, not " + std::to_string(format.block_size));
  const auto g = OnnxGraph::load(in_onnx);
  const auto& ops = g.summary().operators;
  for (const char* op : {"com.microsoft:MatMulNBits", "com.microsoft:GatherBlockQuantized"})
    if (ops.count(op))
      throw Error(in_onnx.string() + ": already quantized (" + std::to_string(ops.at(op)) + " " +
                  std::string(op).substr(14) + " nodes); quantize the float model it came from");
  if (g.has_subgraphs())
    throw Error(in_onnx.string() +
                ": graphs with subgraphs (If, Loop: a merged decoder) cannot be quantized; "
                "use the decoder with past (model.onnx)");

  QuantizeResult result;
  auto targets = Planner(g, options).plan(result.notes);
  if (targets.empty())
    throw Error(in_onnx.string() + ": nothing to quantize (no MatMul with a constant float32 weight)");

  graph::GraphEdit edit;
  edit.opsets[kMs] = 1;
  const bool external = !g.summary().external_data_files.empty() || fs::file_size(in_onnx) >= kExternalFrom;
  fs::path data_file = out_onnx;
  data_file += "_data";
  InitializerSink sink(edit, external ? std::optional(data_file) : std::nullopt);
  result.external_data = external;

  // Each weight is quantized once; its matrix is released after the last node that uses it.
  std::map<std::string, size_t> uses;
  for (const auto& t : targets) ++uses[t.weight.key()];
  const auto& opsets = g.summary().opsets;
  const int64_t onnx_opset = opsets.count("") ? opsets.at("") : 0;
  std::map<size_t, size_t> group_of;  // target -> stacking group
  std::vector<std::vector<size_t>> groups;
  if (options.stack_projections && onnx_opset >= 11) groups = stacking_groups(targets, uses);
  for (size_t k = 0; k < groups.size(); ++k)
    for (size_t i : groups[k]) group_of[i] = k;
  std::vector<StackedWeights> stacks(groups.size());

  std::map<std::string, std::shared_ptr<const QuantizedMatrix>> matrices;
  std::map<std::string, std::string> written;  // initializer name base -> the weight key it holds
  const std::string suffix = "_q" + std::to_string(format.bits);
  const auto add_weights = [&](const std::string& base, const PackedWeights& p) {
    sink.add(base, p.data_dims, graph::onnx::kUint8, p.data);
    if (options.fp16)
      sink.add(base + "_scales", p.scales_dims, graph::onnx::kFloat16,
               float16_bytes(p.scales.data(), p.scales.size()));
    else
      sink.add(base + "_scales", p.scales_dims, graph::onnx::kFloat32, bytes_of(p.scales));
    if (!format.symmetric)
      sink.add(base + "_zero_points", p.zero_points_dims, graph::onnx::kUint8, p.zero_points);
  };
  const auto matmul_nbits = [&](const std::string& input, const std::string& base, int64_t k, int64_t n) {
    GraphNode node;
    node.domain = kMs;
    node.op_type = "MatMulNBits";
    node.inputs = {input, base, base + "_scales"};
    if (!format.symmetric) node.inputs.push_back(base + "_zero_points");
    node.attributes = {int_attribute("K", k), int_attribute("N", n), int_attribute("bits", format.bits),
                       int_attribute("block_size", format.block_size),
                       int_attribute("accuracy_level", options.accuracy_level)};
    ++result.matmuls;
    return node;
  };
  size_t done = 0;
  for (size_t i = 0; i < targets.size(); ++i) {
    const Target& t = targets[i];
    const Weight& w = t.weight;
    auto& matrix = matrices[w.key()];
    if (!matrix) {
      const auto values = g.tensor(w.initializer).floats();
      matrix = std::make_shared<const QuantizedMatrix>(
          quantize_matrix(values->data(), w.rows, w.cols, w.row_major ? w.cols : 1, w.row_major ? 1 : w.rows,
                          format, options.method, options.threads));
    }
    const GraphNode& old = g.nodes()[t.node];
    edit.removed.insert(t.node);
    if (options.progress) options.progress(++done, targets.size());

    if (auto group = group_of.find(i); group != group_of.end()) {
      StackedWeights& stack = stacks[group->second];
      stack.add(matmul_nbits_weights(*matrix), w.rows, old.outputs.at(0));
      matrix.reset();
      if (stack.rows.size() < groups[group->second].size()) continue;
      const std::string base = w.initializer + "_stacked" + suffix;  // named after the last member
      add_weights(base, stack.packed);
      int64_t n = 0;
      for (int64_t r : stack.rows) n += r;
      GraphNode stacked = matmul_nbits(t.input, base, w.cols, n);
      stacked.name = old.name.empty() ? "" : old.name + "_stacked";
      stacked.outputs = {base + "_output"};
      GraphNode split;
      split.op_type = "Split";
      split.name = old.name.empty() ? "" : old.name + "_split";
      split.inputs = {stacked.outputs[0]};
      split.outputs = stack.outputs;
      split.attributes = {int_attribute("axis", -1)};
      if (onnx_opset >= 13) {  // the sizes are an input from opset 13, an attribute before
        split.inputs.push_back(base + "_split");
        sink.add(split.inputs.back(), {static_cast<int64_t>(stack.rows.size())}, graph::onnx::kInt64,
                 {reinterpret_cast<const char*>(stack.rows.data()), stack.rows.size() * sizeof(int64_t)});
      } else {
        graph::NodeAttribute sizes;
        sizes.name = "split";
        sizes.ints = stack.rows;
        split.attributes.push_back(sizes);
      }
      result.stacked += stack.rows.size();
      edit.added.push_back(std::move(stacked));
      edit.added.push_back(std::move(split));
      stack = {};
      continue;
    }

    std::string base = w.initializer + (t.gather ? "_gather" : "") + suffix;
    while (written.count(base) && written[base] != w.key()) base += "_";  // a square weight read both ways
    if (written.emplace(base, w.key()).second)
      add_weights(base, t.gather ? gather_block_quantized_weights(*matrix) : matmul_nbits_weights(*matrix));
    if (--uses[w.key()] == 0) matrix.reset();

    GraphNode n;
    if (t.gather) {
      n.domain = kMs;
      n.op_type = "GatherBlockQuantized";
      n.inputs = {base, t.input, base + "_scales"};
      if (!format.symmetric) n.inputs.push_back(base + "_zero_points");
      n.attributes = {int_attribute("gather_axis", 0), int_attribute("quantize_axis", 1),
                      int_attribute("block_size", format.block_size), int_attribute("bits", format.bits)};
      ++result.gathers;
    } else {
      n = matmul_nbits(t.input, base, w.cols, w.rows);
      if (!t.bias.empty()) {
        if (format.symmetric) n.inputs.push_back("");
        n.inputs.insert(n.inputs.end(), {"", t.bias});
      }
    }
    n.name = old.name;
    n.outputs = {old.outputs.at(0)};
    edit.added.push_back(std::move(n));
  }

  // The float weights nothing reads any more are dropped; with external data, the large ones
  // kept move to the new data file (the output folder must not depend on the input's files).
  for (const auto& name : g.unused_initializers(edit))
    if (!edit.added_initializers.count(name)) edit.removed_initializers.insert(name);
  if (options.fp16)
    convert_to_float16(g, edit,
                       [&](const std::string& name, const std::vector<int64_t>& dims, uint64_t type,
                           std::string_view raw) { sink.add(name, dims, type, raw); });
  if (sink.external()) {
    for (const auto& name : g.initializer_names()) {
      if (edit.removed_initializers.count(name)) continue;
      const auto t = g.tensor(name);
      if (!t.external && t.raw.size() < kInlineBelow) continue;
      edit.removed_initializers.insert(name);
      sink.add(name, t.dims, t.data_type, t.raw);
    }
  }
  sink.finish();
  g.write_file(edit, out_onnx);
  if (options.fp16) {
    // Whether a float16 graph runs depends on every operator having a float16 form (Range, CumSum
    // and a few others have none): ONNX Runtime, which will run it, is asked before anything is kept.
    try {
      model::create_session(out_onnx, {});
    } catch (const std::exception& e) {
      std::error_code ec;
      fs::remove(out_onnx, ec);
      fs::remove(data_file, ec);
      throw Error(in_onnx.string() +
                  ": --fp16 made a graph ONNX Runtime cannot run, so nothing was written (" + e.what() + ")");
    }
  }
  return result;
}

}  // namespace ortlm::quant
