#pragma once
// The top-level graph of an ONNX model, decoded enough to find patterns in it (nodes with their
// inputs, outputs and plain attributes; names of inputs, outputs and initializers), and written
// back with an edit applied. Everything not touched by the edit (weights, value names, metadata)
// is copied byte for byte from the file; initializers stored as external data stay references to
// their file (by a path relative to the model's folder). The same single pass over the file fills
// the model's summary (opsets, operators, external data files).
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "graph/onnx_summary.hpp"
#include "graph/proto_wire.hpp"

namespace ortlm::graph {

struct NodeAttribute {
  std::string name;
  std::optional<int64_t> i;
  std::optional<float> f;
  std::vector<int64_t> ints;
  std::vector<float> floats;
};

struct GraphNode {
  std::string op_type, domain, name;
  std::vector<std::string> inputs, outputs;
  std::vector<NodeAttribute> attributes;
  bool has_subgraph = false;
  std::string_view encoded;  // the NodeProto as in the file; empty for nodes an edit adds

  const NodeAttribute* attribute(std::string_view attribute_name) const;
  // A node of the default domain (or com.microsoft with domain = "com.microsoft") of this type.
  bool is(std::string_view type, std::string_view in_domain = "") const;
};

// A graph input or output an edit declares: a tensor of ONNX element type `elem_type`
// (TensorProto.DataType) whose dims are `dims`, a negative dim being the symbolic `dim_names[i]`.
struct GraphValue {
  std::string name;
  int32_t elem_type = 0;
  std::vector<int64_t> dims;
  std::vector<std::string> dim_names;
};

// What to change: nodes to drop (their outputs are then produced by added nodes, or unused),
// nodes and initializers to add, opsets to import, graph inputs and outputs to drop or declare.
// Nodes left without a consumer are dropped too.
struct GraphEdit {
  std::set<size_t> removed;
  std::vector<GraphNode> added;
  std::map<std::string, std::string> added_initializers;  // name -> encoded TensorProto
  std::map<std::string, int64_t> opsets;                  // imported when the model lacks the domain
  std::set<std::string> removed_inputs, removed_outputs;
  std::vector<GraphValue> added_inputs, added_outputs;
};

// Receives the encoded model piece by piece, in order.
using ByteSink = std::function<void(std::string_view)>;

class OnnxGraph {
 public:
  // Maps and decodes `path`. Throws ortlm::Error naming the file and byte when it is malformed.
  static OnnxGraph load(const std::filesystem::path& path);
  // The same for a model in memory; `name` stands for the path in errors.
  static OnnxGraph from_bytes(std::string bytes, const std::filesystem::path& name);

  const OnnxSummary& summary() const { return summary_; }
  const std::vector<GraphNode>& nodes() const { return nodes_; }
  // The node producing `value`, if any (graph inputs and initializers have none).
  std::optional<size_t> producer(const std::string& value) const;
  const std::vector<size_t>& consumers(const std::string& value) const;
  bool has_subgraphs() const { return has_subgraphs_; }
  // A float32 initializer stored in the model file (not external data), with its dims.
  struct FloatTensor {
    std::vector<int64_t> dims;
    std::vector<float> values;
  };
  std::optional<FloatTensor> float_initializer(const std::string& name) const;
  const std::filesystem::path& path() const { return path_; }

  // The model with `edit` applied, encoded into `sink` piece by piece (never whole in memory);
  // nodes in topological order, value_info hints dropped. Throws ortlm::Error, before writing
  // anything, when the edit leaves a value without a producer.
  void serialize(const GraphEdit& edit, const ByteSink& sink) const;
  // The same into a string (for ONNX Runtime's sessions from bytes).
  std::string serialize(const GraphEdit& edit) const;
  // The same into a file; external data files are found relative to it, so they must be beside it
  // as they are beside the model. Throws ortlm::Error naming the file when it cannot be written.
  void write_file(const GraphEdit& edit, const std::filesystem::path& out) const;
  // Number of nodes the edited graph has (after dropping unused ones). Throws ortlm::Error like
  // serialize() when the edit leaves a value (or a graph output) without a producer.
  size_t node_count(const GraphEdit& edit) const;
  bool has_input(const std::string& name) const { return inputs_.count(name) != 0; }
  bool has_output(const std::string& name) const { return outputs_.count(name) != 0; }

 private:
  std::vector<const GraphNode*> edited_nodes(const GraphEdit& edit) const;
  // Decodes `bytes`, which `storage` keeps alive (a memory map or a string).
  static OnnxGraph decode(std::shared_ptr<const void> storage, std::string_view bytes,
                          const std::filesystem::path& path);

  OnnxSummary summary_;
  std::filesystem::path path_;
  std::string path_string_;
  std::shared_ptr<const void> storage_;  // owns file_bytes_
  std::string_view file_bytes_;
  std::string_view graph_bytes_;
  std::vector<GraphNode> nodes_;
  std::map<std::string, size_t> producers_;
  std::map<std::string, std::vector<size_t>> consumers_;
  std::set<std::string> inputs_, outputs_;
  std::map<std::string, std::string_view> initializers_;  // name -> encoded TensorProto
  bool has_subgraphs_ = false;
};

// An initializer holding `values` (float32 or int64) with shape `dims`, encoded as a TensorProto.
std::string encode_float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values);
std::string encode_int64_tensor(const std::string& name, const std::vector<int64_t>& values);

}  // namespace ortlm::graph
