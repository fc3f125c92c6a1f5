#include "graph/onnx_graph.hpp"

#include <cstring>

#include "ortlm/error.hpp"

namespace ortlm::graph {
namespace {

using proto::kFixed32;
using proto::kLengthDelimited;
using proto::kVarint;
using proto::MessageReader;
using proto::MessageWriter;

// Field numbers from onnx.proto.
namespace field {
constexpr uint32_t kModelGraph = 7, kModelOpsetImport = 8;
constexpr uint32_t kOpsetDomain = 1, kOpsetVersion = 2;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5, kGraphInput = 11, kGraphOutput = 12,
                   kGraphValueInfo = 13;
constexpr uint32_t kValueInfoName = 1;
constexpr uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttribute = 5,
                   kNodeDomain = 7;
constexpr uint32_t kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrGraph = 6, kAttrFloats = 7, kAttrInts = 8,
                   kAttrGraphs = 11, kAttrType = 20;
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorFloatData = 4, kTensorName = 8,
                   kTensorRawData = 9, kTensorDataLocation = 14;
}  // namespace field

// onnx.proto AttributeType and TensorProto.DataType values.
constexpr uint64_t kAttrTypeFloat = 1, kAttrTypeInt = 2, kAttrTypeFloats = 6, kAttrTypeInts = 7;
constexpr uint64_t kFloat32 = 1, kInt64 = 7;

float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// Repeated scalars may be packed (one length-delimited field) or not (one field per value).
void read_ints(const MessageReader& r, std::vector<int64_t>& out, const std::string& file) {
  if (r.wire() == kVarint) {
    out.push_back(static_cast<int64_t>(r.value()));
    return;
  }
  if (r.wire() != kLengthDelimited) return;
  const auto bytes = r.bytes();  // packed: varints back to back
  for (size_t pos = 0; pos < bytes.size();) {
    uint64_t value = 0;
    if (proto::decode_varint(bytes, pos, value) != proto::VarintStatus::ok)
      throw Error(file + ": not a valid ONNX model: bad packed integer list");
    out.push_back(static_cast<int64_t>(value));
  }
}

void read_floats(const MessageReader& r, std::vector<float>& out) {
  if (r.wire() == kFixed32) {
    out.push_back(as_float(r.fixed32()));
    return;
  }
  if (r.wire() != kLengthDelimited) return;
  const auto bytes = r.bytes();  // packed
  for (size_t at = 0; at + 4 <= bytes.size(); at += 4)
    out.push_back(as_float(proto::load_fixed32(bytes.data() + at)));
}

NodeAttribute read_attribute(MessageReader r, bool& has_subgraph, const std::string& file) {
  NodeAttribute a;
  while (r.next()) {
    switch (r.field()) {
      case field::kAttrName:
        a.name = r.bytes();
        break;
      case field::kAttrF:
        if (r.wire() == kFixed32) a.f = as_float(r.fixed32());
        break;
      case field::kAttrI:
        if (r.wire() == kVarint) a.i = static_cast<int64_t>(r.value());
        break;
      case field::kAttrInts:
        read_ints(r, a.ints, file);
        break;
      case field::kAttrFloats:
        read_floats(r, a.floats);
        break;
      case field::kAttrGraph:
      case field::kAttrGraphs:
        has_subgraph = true;
        break;
      default:
        break;
    }
  }
  return a;
}

GraphNode read_node(MessageReader r, std::string_view encoded, const std::string& file) {
  GraphNode n;
  n.encoded = encoded;
  while (r.next()) {
    if (r.wire() != kLengthDelimited) continue;
    switch (r.field()) {
      case field::kNodeInput:
        n.inputs.emplace_back(r.bytes());
        break;
      case field::kNodeOutput:
        n.outputs.emplace_back(r.bytes());
        break;
      case field::kNodeName:
        n.name = r.bytes();
        break;
      case field::kNodeOpType:
        n.op_type = r.bytes();
        break;
      case field::kNodeDomain:
        n.domain = r.bytes() == "ai.onnx" ? "" : std::string(r.bytes());
        break;
      case field::kNodeAttribute:
        n.attributes.push_back(read_attribute(r.sub(), n.has_subgraph, file));
        break;
      default:
        break;
    }
  }
  return n;
}

std::string first_string_field(MessageReader r, uint32_t number) {
  while (r.next())
    if (r.is(number, kLengthDelimited)) return std::string(r.bytes());
  return {};
}

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
      aw.varint_field(field::kAttrType, kAttrTypeFloat);
    } else if (a.i) {
      aw.varint_field(field::kAttrI, static_cast<uint64_t>(*a.i));
      aw.varint_field(field::kAttrType, kAttrTypeInt);
    } else if (!a.floats.empty()) {
      for (float f : a.floats) aw.float_field(field::kAttrFloats, f);
      aw.varint_field(field::kAttrType, kAttrTypeFloats);
    } else {
      for (int64_t i : a.ints) aw.varint_field(field::kAttrInts, static_cast<uint64_t>(i));
      aw.varint_field(field::kAttrType, kAttrTypeInts);
    }
    w.bytes_field(field::kNodeAttribute, aw.data());
  }
  if (!n.domain.empty()) w.bytes_field(field::kNodeDomain, n.domain);
  return w.take();
}

}  // namespace

const NodeAttribute* GraphNode::attribute(std::string_view attribute_name) const {
  for (const auto& a : attributes)
    if (a.name == attribute_name) return &a;
  return nullptr;
}

bool GraphNode::is(std::string_view type, std::string_view in_domain) const {
  return op_type == type && domain == in_domain;
}

OnnxGraph OnnxGraph::load(const std::filesystem::path& path) {
  auto file = std::make_shared<proto::MappedFile>(path);
  const std::string_view bytes = file->view();
  return decode(std::move(file), bytes, path);
}

OnnxGraph OnnxGraph::from_bytes(std::string bytes, const std::filesystem::path& name) {
  auto owned = std::make_shared<const std::string>(std::move(bytes));
  const std::string_view view = *owned;
  return decode(std::move(owned), view, name);
}

OnnxGraph OnnxGraph::decode(std::shared_ptr<const void> storage, std::string_view bytes,
                            const std::filesystem::path& path) {
  OnnxGraph g;
  g.path_ = path;
  g.path_string_ = path.string();
  g.storage_ = std::move(storage);
  g.file_bytes_ = bytes;
  for (MessageReader model(g.file_bytes_, 0, g.path_string_); model.next();)
    if (model.is(field::kModelGraph, kLengthDelimited)) g.graph_bytes_ = model.bytes();
  if (g.graph_bytes_.empty()) throw Error(g.path_string_ + ": not a valid ONNX model: no graph");
  const size_t graph_offset = static_cast<size_t>(g.graph_bytes_.data() - g.file_bytes_.data());
  for (MessageReader graph(g.graph_bytes_, graph_offset, g.path_string_); graph.next();) {
    if (graph.wire() != kLengthDelimited) continue;
    switch (graph.field()) {
      case field::kGraphNode: {
        GraphNode node = read_node(graph.sub(), graph.raw_field(), g.path_string_);
        g.has_subgraphs_ = g.has_subgraphs_ || node.has_subgraph;
        const size_t index = g.nodes_.size();
        for (const auto& out : node.outputs) g.producers_[out] = index;
        for (const auto& in : node.inputs) g.consumers_[in].push_back(index);
        g.nodes_.push_back(std::move(node));
        break;
      }
      case field::kGraphInitializer:
        g.initializers_.emplace(first_string_field(graph.sub(), field::kTensorName), graph.bytes());
        break;
      case field::kGraphInput:
        g.inputs_.insert(first_string_field(graph.sub(), field::kValueInfoName));
        break;
      case field::kGraphOutput:
        g.outputs_.insert(first_string_field(graph.sub(), field::kValueInfoName));
        break;
      default:
        break;
    }
  }
  return g;
}

std::optional<size_t> OnnxGraph::producer(const std::string& value) const {
  auto it = producers_.find(value);
  if (it == producers_.end()) return std::nullopt;
  return it->second;
}

const std::vector<size_t>& OnnxGraph::consumers(const std::string& value) const {
  static const std::vector<size_t> kNone;
  auto it = consumers_.find(value);
  return it == consumers_.end() ? kNone : it->second;
}

// The kept and added nodes, unused ones dropped, in an order where every value is produced before
// it is consumed (the original order wherever it already is).
std::vector<const GraphNode*> OnnxGraph::edited_nodes(const GraphEdit& edit) const {
  if (has_subgraphs_) throw Error(path_string_ + ": graphs with subgraphs (If, Loop, Scan) cannot be edited");
  std::vector<const GraphNode*> nodes;
  for (size_t i = 0; i < nodes_.size(); ++i)
    if (!edit.removed.count(i)) nodes.push_back(&nodes_[i]);
  for (const auto& n : edit.added) nodes.push_back(&n);

  for (bool changed = true; changed;) {  // drop nodes none of whose outputs is used
    std::set<std::string_view> used(outputs_.begin(), outputs_.end());
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

  std::set<std::string_view> available(inputs_.begin(), inputs_.end());
  for (const auto& [name, tensor] : initializers_) available.insert(name);
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
  return order;
}

std::optional<OnnxGraph::FloatTensor> OnnxGraph::float_initializer(const std::string& name) const {
  auto it = initializers_.find(name);
  if (it == initializers_.end()) return std::nullopt;
  FloatTensor t;
  uint64_t data_type = 0;
  std::string_view raw;
  for (MessageReader r(it->second, 0, path_string_); r.next();) {
    if (r.field() == field::kTensorDims) read_ints(r, t.dims, path_string_);
    if (r.is(field::kTensorDataType, kVarint)) data_type = r.value();
    if (r.field() == field::kTensorFloatData) read_floats(r, t.values);
    if (r.is(field::kTensorRawData, kLengthDelimited)) raw = r.bytes();
    if (r.is(field::kTensorDataLocation, kVarint) && r.value() != 0) return std::nullopt;  // external data
  }
  if (data_type != kFloat32) return std::nullopt;
  if (!raw.empty()) {
    t.values.resize(raw.size() / sizeof(float));
    std::memcpy(t.values.data(), raw.data(), t.values.size() * sizeof(float));
  }
  // The dims must multiply, without overflowing, to the number of values: a product that wraps
  // around could otherwise match a short data field and send readers past its end.
  size_t count = 1;
  for (int64_t d : t.dims)
    if (d < 0 || __builtin_mul_overflow(count, static_cast<size_t>(d), &count)) return std::nullopt;
  if (t.values.size() != count) return std::nullopt;
  return t;
}

size_t OnnxGraph::node_count(const GraphEdit& edit) const { return edited_nodes(edit).size(); }

std::string OnnxGraph::serialize(const GraphEdit& edit) const {
  const auto nodes = edited_nodes(edit);
  MessageWriter graph;
  for (const auto* n : nodes) {
    if (!n->encoded.empty())
      graph.raw(n->encoded);
    else
      graph.bytes_field(field::kGraphNode, encode_node(*n));
  }
  for (MessageReader r(graph_bytes_, 0, path_string_); r.next();)
    if (r.field() != field::kGraphNode && r.field() != field::kGraphValueInfo) graph.raw(r.raw_field());
  for (const auto& [name, tensor] : edit.added_initializers)
    graph.bytes_field(field::kGraphInitializer, tensor);

  MessageWriter model;
  std::set<std::string> domains;
  for (MessageReader r(file_bytes_, 0, path_string_); r.next();) {
    if (r.is(field::kModelGraph, kLengthDelimited)) {
      model.bytes_field(field::kModelGraph, graph.data());
      continue;
    }
    if (r.is(field::kModelOpsetImport, kLengthDelimited)) {
      std::string domain = first_string_field(r.sub(), field::kOpsetDomain);
      domains.insert(domain == "ai.onnx" ? "" : domain);
    }
    model.raw(r.raw_field());
  }
  for (const auto& [domain, version] : edit.opsets) {
    if (domains.count(domain)) continue;
    MessageWriter opset;
    opset.bytes_field(field::kOpsetDomain, domain);
    opset.varint_field(field::kOpsetVersion, static_cast<uint64_t>(version));
    model.bytes_field(field::kModelOpsetImport, opset.data());
  }
  return model.take();
}

namespace {

template <typename T>
std::string encode_tensor(const std::string& name, const std::vector<int64_t>& dims, uint64_t data_type,
                          const std::vector<T>& values) {
  MessageWriter w;
  for (int64_t d : dims) w.varint_field(field::kTensorDims, static_cast<uint64_t>(d));
  w.varint_field(field::kTensorDataType, data_type);
  w.bytes_field(field::kTensorName, name);
  w.bytes_field(field::kTensorRawData,
                std::string_view(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
  return w.take();
}

}  // namespace

std::string encode_float_tensor(const std::string& name, const std::vector<int64_t>& dims,
                                const std::vector<float>& values) {
  return encode_tensor(name, dims, kFloat32, values);
}

std::string encode_int64_tensor(const std::string& name, const std::vector<int64_t>& values) {
  return encode_tensor(name, {static_cast<int64_t>(values.size())}, kInt64, values);
}

}  // namespace ortlm::graph
