#include "graph/onnx_graph.hpp"

#include <charconv>
#include <cstring>

#include "graph/onnx_fields.hpp"
#include "ortlm/error.hpp"

namespace ortlm::graph {
namespace {

namespace field = onnx;
using proto::kFixed32;
using proto::kLengthDelimited;
using proto::kVarint;
using proto::MessageReader;

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

// How a block-quantized node stores its weights, with the contrib-op spec's defaults for absent
// attributes (bits 4; GatherBlockQuantized's block_size 128; accuracy_level 0 = unset).
std::string quantization_text(const GraphNode& n) {
  auto value = [&](const char* name, int64_t fallback) {
    for (const auto& a : n.attributes)
      if (a.name == name && a.i) return *a.i;
    return fallback;
  };
  const bool matmul = n.op_type == "MatMulNBits";
  std::string text = n.op_type + " (" + std::to_string(value("bits", 4)) + " bits, block " +
                     std::to_string(value("block_size", matmul ? 0 : 128));
  if (matmul) {
    const int64_t level = value("accuracy_level", 0);
    text += ", accuracy level " + std::to_string(level) + (level == 0 ? " (unset)" : "");
  }
  const bool zero_points = n.inputs.size() > 3 && !n.inputs[3].empty();
  return text + (zero_points ? ", zero points" : ", symmetric") + ")";
}

// The top-level graph's contents; subgraphs (If/Loop/Scan bodies) only add to the summary.
struct TopGraph {
  std::vector<GraphNode> nodes;
  std::set<std::string> inputs, outputs;
  std::map<std::string, std::string_view> initializers;  // name -> encoded TensorProto
  std::vector<GraphValue> input_values, output_values;
};

// One pass over a model file: the summary, and the top-level graph's nodes, inputs, outputs and
// initializers. Tensor payloads are skipped.
class Decoder {
 public:
  Decoder(const std::string& file, OnnxSummary& summary) : file_(file), summary_(summary) {}

  // Reads a graph: every node's operator and every initializer's external data file go to the
  // summary, subgraphs included; `top` (when given) receives the graph itself.
  void graph(MessageReader r, int depth, TopGraph* top) {
    if (depth > 64) throw Error("ONNX graph nesting deeper than 64 subgraphs");
    while (r.next()) {
      if (r.wire() != kLengthDelimited) continue;
      switch (r.field()) {
        case field::kGraphNode: {
          GraphNode n = node(r.sub(), r.raw_field(), depth);
          ++summary_.operators[n.domain.empty() ? n.op_type : n.domain + ":" + n.op_type];
          if (n.domain == "com.microsoft" &&
              (n.op_type == "MatMulNBits" || n.op_type == "GatherBlockQuantized"))
            ++summary_.quantization[quantization_text(n)];
          if (top) top->nodes.push_back(std::move(n));
          break;
        }
        case field::kGraphInitializer: {
          std::string name = initializer(r.sub());
          if (top) top->initializers.emplace(std::move(name), r.bytes());
          break;
        }
        case field::kGraphInput:
        case field::kGraphOutput:
          if (top) {
            const bool input = r.field() == field::kGraphInput;
            GraphValue v = value_info(r.sub());
            (input ? top->inputs : top->outputs).insert(v.name);
            (input ? top->input_values : top->output_values).push_back(std::move(v));
          }
          break;
        default:
          break;
      }
    }
  }

 private:
  GraphNode node(MessageReader r, std::string_view encoded, int depth) {
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
          n.attributes.push_back(attribute(r.sub(), n.has_subgraph, depth));
          break;
        default:
          break;
      }
    }
    return n;
  }

  NodeAttribute attribute(MessageReader r, bool& has_subgraph, int depth) {
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
          read_ints(r, a.ints, file_);
          break;
        case field::kAttrFloats:
          read_floats(r, a.floats);
          break;
        case field::kAttrT:
          if (r.wire() == kLengthDelimited) a.tensor = r.bytes();
          break;
        case field::kAttrGraph:
        case field::kAttrGraphs:
          has_subgraph = true;
          if (r.wire() == kLengthDelimited) graph(r.sub(), depth + 1, nullptr);
          break;
        default:
          break;
      }
    }
    return a;
  }

  // A ValueInfoProto's name and, when it declares a tensor type, its element type and dims.
  GraphValue value_info(MessageReader r) {
    GraphValue v;
    while (r.next()) {
      if (r.is(field::kValueInfoName, kLengthDelimited)) v.name = r.bytes();
      if (!r.is(field::kValueInfoType, kLengthDelimited)) continue;
      for (auto type = r.sub(); type.next();) {
        if (!type.is(field::kTypeTensor, kLengthDelimited)) continue;
        for (auto tensor = type.sub(); tensor.next();) {
          if (tensor.is(field::kTensorTypeElemType, kVarint))
            v.elem_type = static_cast<int32_t>(tensor.value());
          if (!tensor.is(field::kTensorTypeShape, kLengthDelimited)) continue;
          for (auto shape = tensor.sub(); shape.next();) {
            if (!shape.is(field::kShapeDim, kLengthDelimited)) continue;
            int64_t value = -1;
            std::string param;
            for (auto dim = shape.sub(); dim.next();) {
              if (dim.is(field::kDimValue, kVarint)) value = static_cast<int64_t>(dim.value());
              if (dim.is(field::kDimParam, kLengthDelimited)) param = dim.bytes();
            }
            v.dims.push_back(value);
            v.dim_names.push_back(param);
          }
        }
      }
    }
    return v;
  }

  // An initializer's name; the file its external data is in (if any) goes to the summary.
  std::string initializer(MessageReader tensor) {
    std::string name;
    bool named = false;
    while (tensor.next()) {
      if (!named && tensor.is(field::kTensorName, kLengthDelimited)) {
        name = tensor.bytes();
        named = true;
      }
      if (!tensor.is(field::kTensorExternalData, kLengthDelimited)) continue;
      std::string_view key, value;
      for (auto entry = tensor.sub(); entry.next();) {
        if (entry.is(field::kEntryKey, kLengthDelimited)) key = entry.bytes();
        if (entry.is(field::kEntryValue, kLengthDelimited)) value = entry.bytes();
      }
      if (key == "location") summary_.external_data_files.emplace(value);
    }
    return name;
  }

  const std::string& file_;
  OnnxSummary& summary_;
};

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
  const std::string& name = g.path_string_;
  if (bytes.empty()) throw Error(name + ": not a valid ONNX model: the file is empty");
  OnnxSummary& summary = g.summary_;
  Decoder decoder(name, summary);
  TopGraph top;
  bool has_graph = false;
  std::string producer_name, producer_version;
  for (MessageReader model(bytes, 0, name); model.next();) {
    switch (model.field()) {
      case field::kModelIrVersion:
        summary.ir_version = static_cast<int64_t>(model.value());
        break;
      case field::kModelProducerName:
        producer_name = model.bytes();
        break;
      case field::kModelProducerVersion:
        producer_version = model.bytes();
        break;
      case field::kModelGraph:
        has_graph = true;
        g.graph_bytes_ = model.bytes();
        top = {};
        decoder.graph(model.sub(), 0, &top);
        break;
      case field::kModelOpsetImport: {
        std::string domain;
        int64_t version = 0;
        for (auto opset = model.sub(); opset.next();) {
          if (opset.is(field::kOpsetDomain, kLengthDelimited)) domain = opset.bytes();
          if (opset.is(field::kOpsetVersion, kVarint)) version = static_cast<int64_t>(opset.value());
        }
        summary.opsets[domain == "ai.onnx" ? "" : domain] = version;
        break;
      }
      default:
        break;
    }
  }
  if (summary.ir_version <= 0 || !has_graph)
    throw Error(name + ": not a valid ONNX model: no " + (has_graph ? "ir_version" : "graph") + " field");
  summary.producer = producer_name + (producer_version.empty() ? "" : " " + producer_version);

  g.nodes_ = std::move(top.nodes);
  g.inputs_ = std::move(top.inputs);
  g.outputs_ = std::move(top.outputs);
  g.input_values_ = std::move(top.input_values);
  g.output_values_ = std::move(top.output_values);
  g.initializers_ = std::move(top.initializers);
  for (size_t index = 0; index < g.nodes_.size(); ++index) {
    const GraphNode& node = g.nodes_[index];
    g.has_subgraphs_ = g.has_subgraphs_ || node.has_subgraph;
    for (const auto& out : node.outputs) g.producers_[out] = index;
    for (const auto& in : node.inputs) g.consumers_[in].push_back(index);
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
  if (data_type != field::kFloat32) return std::nullopt;
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

}  // namespace ortlm::graph

namespace ortlm::graph {

size_t element_size(uint64_t data_type) {
  switch (data_type) {
    case onnx::kFloat32:
    case onnx::kInt32:
      return 4;
    case onnx::kUint8:
      return 1;
    case onnx::kInt64:
      return 8;
    case onnx::kFloat16:
      return 2;
    default:
      return 0;
  }
}

std::optional<std::vector<float>> TensorData::floats() const {
  if (data_type != onnx::kFloat32) return std::nullopt;
  if (raw.empty()) return values;
  std::vector<float> out(elements);
  std::memcpy(out.data(), raw.data(), elements * sizeof(float));
  return out;
}

std::vector<std::string> OnnxGraph::initializer_names() const {
  std::vector<std::string> names;
  for (const auto& [name, tensor] : initializers_) names.push_back(name);
  return names;
}

TensorData OnnxGraph::tensor(const std::string& name) const {
  auto it = initializers_.find(name);
  if (it == initializers_.end()) throw Error(path_string_ + ": no initializer '" + name + "'");
  TensorData t = decode_tensor(it->second, path_string_ + ": initializer '" + name + "'");
  t.name = name;
  return t;
}

TensorData OnnxGraph::decode_tensor(std::string_view encoded, const std::string& what) const {
  TensorData t;
  std::string location;
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  for (MessageReader r(encoded, 0, path_string_); r.next();) {
    if (r.field() == field::kTensorDims) read_ints(r, t.dims, path_string_);
    if (r.is(field::kTensorDataType, kVarint)) t.data_type = r.value();
    if (r.field() == field::kTensorFloatData) read_floats(r, t.values);
    if (r.is(field::kTensorRawData, kLengthDelimited)) t.raw = r.bytes();
    if (r.is(field::kTensorDataLocation, kVarint)) t.external = r.value() == field::kLocationExternal;
    if (!r.is(field::kTensorExternalData, kLengthDelimited)) continue;
    std::string_view key, value;
    for (auto entry = r.sub(); entry.next();) {
      if (entry.is(field::kEntryKey, kLengthDelimited)) key = entry.bytes();
      if (entry.is(field::kEntryValue, kLengthDelimited)) value = entry.bytes();
    }
    auto number = [&](std::string_view text) {
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size())
        throw Error(what + ": external data " + std::string(key) + " '" + std::string(text) +
                    "' is not a number");
      return n;
    };
    if (key == "location") location = value;
    if (key == "offset") offset = number(value);
    if (key == "length") length = number(value);
  }
  size_t count = 1;
  for (int64_t d : t.dims)
    if (d < 0 || __builtin_mul_overflow(count, static_cast<size_t>(d), &count))
      throw Error(what + ": invalid dims");
  t.elements = count;
  const size_t size = element_size(t.data_type);
  size_t bytes = 0;
  if (size && __builtin_mul_overflow(count, size, &bytes)) throw Error(what + ": invalid dims");
  if (t.external) {
    const std::filesystem::path relative(location);
    bool escapes = location.empty() || relative.is_absolute();
    for (const auto& part : relative) escapes = escapes || part == "..";
    if (escapes)
      throw Error(what + ": external data location '" + location + "' is not a file beside the model");
    auto& file = external_files_[location];
    if (!file) file = std::make_shared<proto::MappedFile>(path_.parent_path() / relative);
    const std::string_view data = file->view();
    const uint64_t available = offset <= data.size() ? data.size() - offset : 0;
    if (offset > data.size() || (length && *length > available))
      throw Error(what + ": its external data (offset " + std::to_string(offset) +
                  ") runs past the end of '" + location + "'");
    t.raw = data.substr(offset, length ? *length : available);
  }
  if (size && (!t.raw.empty() || t.external) && t.raw.size() != bytes)
    throw Error(what + ": " + std::to_string(t.raw.size()) + " bytes of data for " + std::to_string(count) +
                " elements of " + std::to_string(size) + " bytes");
  if (t.raw.empty() && !t.external && t.data_type == field::kFloat32 && t.values.size() != count)
    throw Error(what + ": " + std::to_string(t.values.size()) + " float values for " + std::to_string(count) +
                " elements");
  return t;
}

}  // namespace ortlm::graph
