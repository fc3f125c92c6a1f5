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
  std::map<std::string, std::shared_ptr<const QuantizedMatrix>> matrices;
  std::map<std::string, std::string> written;  // initializer name base -> the weight key it holds
  const std::string suffix = "_q" + std::to_string(format.bits);
  size_t done = 0;
  for (const auto& t : targets) {
    const Weight& w = t.weight;
    auto& matrix = matrices[w.key()];
    if (!matrix) {
      const auto values = g.tensor(w.initializer).floats();
      matrix = std::make_shared<const QuantizedMatrix>(
          quantize_matrix(values->data(), w.rows, w.cols, w.row_major ? w.cols : 1, w.row_major ? 1 : w.rows,
                          format, options.method, options.threads));
    }
    std::string base = w.initializer + (t.gather ? "_gather" : "") + suffix;
    while (written.count(base) && written[base] != w.key()) base += "_";  // a square weight read both ways
    if (written.emplace(base, w.key()).second) {
      const PackedWeights p =
          t.gather ? gather_block_quantized_weights(*matrix) : matmul_nbits_weights(*matrix);
      sink.add(base, p.data_dims, graph::onnx::kUint8, p.data);
      if (options.fp16)
        sink.add(base + "_scales", p.scales_dims, graph::onnx::kFloat16,
                 float16_bytes(p.scales.data(), p.scales.size()));
      else
        sink.add(base + "_scales", p.scales_dims, graph::onnx::kFloat32, bytes_of(p.scales));
      if (!format.symmetric)
        sink.add(base + "_zero_points", p.zero_points_dims, graph::onnx::kUint8, p.zero_points);
    }
    if (--uses[w.key()] == 0) matrix.reset();

    const GraphNode& old = g.nodes()[t.node];
    GraphNode n;
    n.name = old.name;
    n.domain = kMs;
    n.outputs = {old.outputs.at(0)};
    const std::string zero_points = format.symmetric ? "" : base + "_zero_points";
    const auto attr = [](const char* name, int64_t v) {
      graph::NodeAttribute a;
      a.name = name;
      a.i = v;
      return a;
    };
    if (t.gather) {
      n.op_type = "GatherBlockQuantized";
      n.inputs = {base, t.input, base + "_scales"};
      if (!zero_points.empty()) n.inputs.push_back(zero_points);
      n.attributes = {attr("gather_axis", 0), attr("quantize_axis", 1), attr("block_size", format.block_size),
                      attr("bits", format.bits)};
      ++result.gathers;
    } else {
      n.op_type = "MatMulNBits";
      n.inputs = {t.input, base, base + "_scales", zero_points};
      if (!t.bias.empty()) n.inputs.insert(n.inputs.end(), {"", t.bias});
      while (n.inputs.back().empty()) n.inputs.pop_back();
      n.attributes = {attr("K", w.cols), attr("N", w.rows), attr("bits", format.bits),
                      attr("block_size", format.block_size), attr("accuracy_level", options.accuracy_level)};
      ++result.matmuls;
    }
    edit.removed.insert(t.node);
    edit.added.push_back(std::move(n));
    if (options.progress) options.progress(++done, targets.size());
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
