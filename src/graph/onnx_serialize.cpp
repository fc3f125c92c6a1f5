// Writing a graph back with an edit applied: the edited node list, then the model streamed piece by
// piece, untouched fields (weights included) copied from the file as they are.
#include <deque>
#include <fstream>

#include "graph/onnx_fields.hpp"
#include "graph/onnx_graph.hpp"
#include "ortlm/error.hpp"

namespace ortlm::graph {
namespace {

namespace field = onnx;
using proto::kLengthDelimited;
using proto::MessageReader;
using proto::MessageWriter;

std::string encode_node(const GraphNode& n) {
  MessageWriter w;
  for (const auto& input : n.inputs) w.bytes_field(field::kNodeInput, input);
  for (const auto& output : n.outputs) w.bytes_field(field::kNodeOutput, output);
  if (!n.name.empty()) w.bytes_field(field::kNodeName, n.name);
  w.bytes_field(field::kNodeOpType, n.op_type);
  for (const auto& a : n.attributes) {
    MessageWriter aw;
    aw.bytes_field(field::kAttrName, a.name);
    if (a.f) {
      aw.float_field(field::kAttrF, *a.f);
      aw.varint_field(field::kAttrType, field::kAttrTypeFloat);
    } else if (a.i) {
      aw.varint_field(field::kAttrI, static_cast<uint64_t>(*a.i));
      aw.varint_field(field::kAttrType, field::kAttrTypeInt);
    } else if (!a.floats.empty()) {
      for (float f : a.floats) aw.float_field(field::kAttrFloats, f);
      aw.varint_field(field::kAttrType, field::kAttrTypeFloats);
    } else {
      for (int64_t i : a.ints) aw.varint_field(field::kAttrInts, static_cast<uint64_t>(i));
      aw.varint_field(field::kAttrType, field::kAttrTypeInts);
    }
    w.bytes_field(field::kNodeAttribute, aw.data());
  }
  if (!n.domain.empty()) w.bytes_field(field::kNodeDomain, n.domain);
  return w.take();
}

std::string encode_value_info(const GraphValue& v) {
  MessageWriter shape;
  for (size_t i = 0; i < v.dims.size(); ++i) {
    MessageWriter dim;
    if (v.dims[i] >= 0)
      dim.varint_field(field::kDimValue, static_cast<uint64_t>(v.dims[i]));
    else
      dim.bytes_field(field::kDimParam, i < v.dim_names.size() ? v.dim_names[i] : std::string());
    shape.bytes_field(field::kShapeDim, dim.data());
  }
  MessageWriter tensor;
  tensor.varint_field(field::kTensorTypeElemType, static_cast<uint64_t>(v.elem_type));
  tensor.bytes_field(field::kTensorTypeShape, shape.data());
  MessageWriter type;
  type.bytes_field(field::kTypeTensor, tensor.data());
  MessageWriter w;
  w.bytes_field(field::kValueInfoName, v.name);
  w.bytes_field(field::kValueInfoType, type.data());
  return w.take();
}

// The key and length that start a length-delimited field of `length` bytes.
std::string field_header(uint32_t number, size_t length) {
  MessageWriter w;
  w.bytes_header(number, length);
  return w.take();
}

// A message's encoding as a list of pieces: views of the model file (or of the edit) and the few
// fields encoded anew, so that its length is known before anything is written and nothing large
// is copied.
class Pieces {
 public:
  void view(std::string_view bytes) {
    parts_.push_back(bytes);
    size_ += bytes.size();
  }
  void own(std::string bytes) { view(owned_.emplace_back(std::move(bytes))); }
  size_t size() const { return size_; }
  void write(const ByteSink& sink) const {
    for (const auto part : parts_) sink(part);
  }

 private:
  std::deque<std::string> owned_;  // a deque: growing it moves no string the views point into
  std::vector<std::string_view> parts_;
  size_t size_ = 0;
};

}  // namespace

// The kept and added nodes, unused ones dropped, in an order where every value is produced before
// it is consumed (the original order wherever it already is).
std::vector<const GraphNode*> OnnxGraph::edited_nodes(const GraphEdit& edit) const {
  if (has_subgraphs_) throw Error(path_string_ + ": graphs with subgraphs (If, Loop, Scan) cannot be edited");
  std::vector<const GraphNode*> nodes;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!edit.removed.count(i)) nodes.push_back(&nodes_[i]);
  for (const auto& n : edit.added) nodes.push_back(&n);

  std::set<std::string_view> outputs;
  for (const auto& o : outputs_)
    if (!edit.removed_outputs.count(o)) outputs.insert(o);
  for (const auto& o : edit.added_outputs) outputs.insert(o.name);
  for (bool changed = true; changed;) {  // drop nodes none of whose outputs is used
    std::set<std::string_view> used = outputs;
    for (const auto* n : nodes) used.insert(n->inputs.begin(), n->inputs.end());
    std::vector<const GraphNode*> kept;
    for (const auto* n : nodes) {
      bool live = false;
      for (const auto& out : n->outputs) live = live || used.count(out);
      if (live) kept.push_back(n);
    }
    changed = kept.size() != nodes.size();
    nodes.swap(kept);
  }

  std::set<std::string_view> available;
  for (const auto& in : inputs_)
    if (!edit.removed_inputs.count(in)) available.insert(in);
  for (const auto& in : edit.added_inputs) available.insert(in.name);
  for (const auto& [name, tensor] : initializers_)
    if (!edit.removed_initializers.count(name)) available.insert(name);
  for (const auto& [name, tensor] : edit.added_initializers) available.insert(name);
  available.insert("");  // an omitted optional input
  std::vector<const GraphNode*> order, pending = nodes;
  while (!pending.empty()) {
    std::vector<const GraphNode*> blocked;
    for (const auto* n : pending) {
      bool ready = true;
      for (const auto& in : n->inputs) ready = ready && available.count(in);
      if (!ready) {
        blocked.push_back(n);
        continue;
      }
      order.push_back(n);
      available.insert(n->outputs.begin(), n->outputs.end());
    }
    if (blocked.size() == pending.size()) {
      std::string missing;
      for (const auto& in : blocked.front()->inputs)
        if (!available.count(in)) missing = in;
      throw Error(path_string_ + ": graph edit left node '" + blocked.front()->name + "' (" +
                  blocked.front()->op_type + ") with input '" + missing + "' that nothing produces");
    }
    pending.swap(blocked);
  }
  for (const auto& o : outputs)
    if (!available.count(o))
      throw Error(path_string_ + ": graph edit left output '" + std::string(o) + "' that nothing produces");
  return order;
}

size_t OnnxGraph::node_count(const GraphEdit& edit) const { return edited_nodes(edit).size(); }

std::set<std::string> OnnxGraph::unused_initializers(const GraphEdit& edit) const {
  std::set<std::string_view> read(outputs_.begin(), outputs_.end());
  for (const auto* n : edited_nodes(edit)) read.insert(n->inputs.begin(), n->inputs.end());
  std::set<std::string> unused;
  for (const auto& [name, tensor] : initializers_)
    if (!edit.removed_initializers.count(name) && !read.count(name)) unused.insert(name);
  for (const auto& [name, tensor] : edit.added_initializers)
    if (!read.count(name)) unused.insert(name);
  return unused;
}

void OnnxGraph::serialize(const GraphEdit& edit, const ByteSink& sink) const {
  const auto nodes = edited_nodes(edit);
  Pieces graph;
  for (const auto* n : nodes) {
    if (!n->encoded.empty()) {
      graph.view(n->encoded);
    } else {
      std::string node = encode_node(*n);
      graph.own(field_header(field::kGraphNode, node.size()) + node);
    }
  }
  for (MessageReader r(graph_bytes_, 0, path_string_); r.next();) {
    if (r.field() == field::kGraphNode || r.field() == field::kGraphValueInfo) continue;
    const bool io = r.field() == field::kGraphInput || r.field() == field::kGraphOutput;
    if (io && r.wire() == kLengthDelimited) {
      const std::string name(proto::first_bytes(r.sub(), field::kValueInfoName));
      if ((r.field() == field::kGraphInput ? edit.removed_inputs : edit.removed_outputs).count(name))
        continue;
      // A dropped initializer goes with its graph input entry, which older exports have.
      if (r.field() == field::kGraphInput && edit.removed_initializers.count(name)) continue;
    }
    if (r.is(field::kGraphInitializer, kLengthDelimited) &&
        edit.removed_initializers.count(std::string(proto::first_bytes(r.sub(), field::kTensorName))))
      continue;
    graph.view(r.raw_field());
  }
  for (const auto* values : {&edit.added_inputs, &edit.added_outputs}) {
    for (const auto& v : *values) {
      std::string info = encode_value_info(v);
      const uint32_t number = values == &edit.added_inputs ? field::kGraphInput : field::kGraphOutput;
      graph.own(field_header(number, info.size()) + info);
    }
  }
  for (const auto& [name, tensor] : edit.added_initializers) {
    graph.own(field_header(field::kGraphInitializer, tensor.size()));
    graph.view(tensor);
  }

  std::set<std::string> domains;
  for (MessageReader r(file_bytes_, 0, path_string_); r.next();) {
    if (r.is(field::kModelGraph, kLengthDelimited)) {
      sink(field_header(field::kModelGraph, graph.size()));
      graph.write(sink);
      continue;
    }
    if (r.is(field::kModelOpsetImport, kLengthDelimited)) {
      const std::string_view domain = proto::first_bytes(r.sub(), field::kOpsetDomain);
      domains.emplace(domain == "ai.onnx" ? "" : domain);
    }
    sink(r.raw_field());
  }
  for (const auto& [domain, version] : edit.opsets) {
    if (domains.count(domain)) continue;
    MessageWriter opset;
    opset.bytes_field(field::kOpsetDomain, domain);
    opset.varint_field(field::kOpsetVersion, static_cast<uint64_t>(version));
    MessageWriter model;
    model.bytes_field(field::kModelOpsetImport, opset.data());
    sink(model.data());
  }
}

std::string OnnxGraph::serialize(const GraphEdit& edit) const {
  std::string out;
  serialize(edit, [&out](std::string_view bytes) { out.append(bytes); });
  return out;
}

void OnnxGraph::write_file(const GraphEdit& edit, const std::filesystem::path& out) const {
  std::ofstream file(out, std::ios::binary | std::ios::trunc);
  if (!file) throw Error(out.string() + ": cannot create the file");
  serialize(edit, [&file](std::string_view bytes) {
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  });
  file.close();
  if (!file) throw Error(out.string() + ": cannot write the file");
}

namespace {

template <typename T>
std::string encode_tensor(const std::string& name, const std::vector<int64_t>& dims, uint64_t data_type,
                          const std::vector<T>& values) {
  return encode_raw_tensor(
      name, dims, data_type,
      std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

void tensor_header(MessageWriter& w, const std::string& name, const std::vector<int64_t>& dims,
                   uint64_t data_type) {
  for (int64_t d : dims) w.varint_field(field::kTensorDims, static_cast<uint64_t>(d));
  w.varint_field(field::kTensorDataType, data_type);
  w.bytes_field(field::kTensorName, name);
}

}  // namespace

std::string encode_raw_tensor(const std::string& name, const std::vector<int64_t>& dims, uint64_t data_type,
                              std::string_view raw) {
  MessageWriter w;
  tensor_header(w, name, dims, data_type);
  w.bytes_field(field::kTensorRawData, raw);
  return w.take();
}

std::string encode_external_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                   uint64_t data_type, const std::string& location, uint64_t offset,
                                   uint64_t length) {
  MessageWriter w;
  tensor_header(w, name, dims, data_type);
  for (const auto& [key, value] : {std::pair<std::string, std::string>{"location", location},
                                   {"offset", std::to_string(offset)},
                                   {"length", std::to_string(length)}}) {
    MessageWriter entry;
    entry.bytes_field(field::kEntryKey, key);
    entry.bytes_field(field::kEntryValue, value);
    w.bytes_field(field::kTensorExternalData, entry.data());
  }
  w.varint_field(field::kTensorDataLocation, field::kLocationExternal);
  return w.take();
}

std::string encode_float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
  return encode_tensor(name, dims, field::kFloat32, values);
}

std::string encode_int64_tensor(const std::string& name, const std::vector<int64_t>& values) {
  return encode_tensor(name, {static_cast<int64_t>(values.size())}, field::kInt64, values);
}

}  // namespace ortlm::graph
