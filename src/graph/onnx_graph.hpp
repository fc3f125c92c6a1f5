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
  std::string_view tensor;  // a tensor attribute's encoded TensorProto (OnnxGraph::decode_tensor reads it)
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
// nodes and initializers to add, initializers to drop (or to replace: drop and add under the same
// name), opsets to import, graph inputs and outputs to drop or declare. Nodes left without a
// consumer are dropped too.
struct GraphEdit {
  std::set<size_t> removed;
  std::vector<GraphNode> added;
  std::map<std::string, std::string> added_initializers;  // name -> encoded TensorProto
  std::set<std::string> removed_initializers;
  std::map<std::string, int64_t> opsets;  // imported when the model lacks the domain
  std::set<std::string> removed_inputs, removed_outputs;
  std::vector<GraphValue> added_inputs, added_outputs;
  // Data that added nodes name by handle instead of holding it as initializers (ortlm's operators'
  // repacked weights): kept alive by the edit until the sessions made from it hold it themselves.
  std::vector<std::shared_ptr<const void>> held;
};

// An initializer's element type, shape and bytes: its raw_data, or its range of an external data
// file (memory-mapped, never copied); `values` holds the float_data field of a float32 tensor
// stored that way instead.
struct TensorData {
  std::string name;
  uint64_t data_type = 0;  // TensorProto.DataType
  std::vector<int64_t> dims;
  size_t elements = 0;
  std::string_view raw;
  std::vector<float> values;
  bool external = false;
  // The float32 values (from raw bytes or float_data), or nullopt for another type.
  std::optional<std::vector<float>> floats() const;
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
  bool is_initializer(const std::string& name) const { return initializers_.count(name) > 0; }
  std::vector<std::string> initializer_names() const;
  // Any initializer, external data included (its file mapped on first use). Throws ortlm::Error
  // naming the tensor when its bytes do not match its type and shape, or its external data
  // reference is malformed, escapes the model's folder or runs past its file.
  TensorData tensor(const std::string& name) const;
  // An encoded TensorProto (an initializer, a Constant's value), read as tensor(name) reads
  // initializers; `what` names it in errors.
  TensorData decode_tensor(std::string_view encoded, const std::string& what) const;
  // The graph's inputs and outputs in file order, with their declared tensor types (elem_type 0 and
  // no dims when a value declares none).
  const std::vector<GraphValue>& input_values() const { return input_values_; }
  const std::vector<GraphValue>& output_values() const { return output_values_; }
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
  // The initializers (the model's, less those removed, and those added) that no node of the edited
  // graph reads and that are not graph outputs.
  std::set<std::string> unused_initializers(const GraphEdit& edit) const;

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
  std::vector<GraphValue> input_values_, output_values_;
  std::map<std::string, std::string_view> initializers_;  // name -> encoded TensorProto
  bool has_subgraphs_ = false;
  mutable std::map<std::string, std::shared_ptr<proto::MappedFile>> external_files_;  // by location
};

// Size in bytes of one element of a TensorProto.DataType ortlm reads or writes (0 for others).
size_t element_size(uint64_t data_type);

// An initializer of any type from its raw bytes, encoded as a TensorProto.
std::string encode_raw_tensor(const std::string& name, const std::vector<int64_t>& dims, uint64_t data_type,
                              std::string_view raw);
// An initializer whose bytes are `length` bytes at `offset` of the external data file `location`
// (relative to the model file).
std::string encode_external_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                   uint64_t data_type, const std::string& location, uint64_t offset,
                                   uint64_t length);
// An initializer holding `values` (float32 or int64) with shape `dims`, encoded as a TensorProto.
std::string encode_float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values);
std::string encode_int64_tensor(const std::string& name, const std::vector<int64_t>& values);

}  // namespace ortlm::graph
