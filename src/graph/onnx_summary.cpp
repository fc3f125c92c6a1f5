#include "graph/onnx_summary.hpp"

#include <string_view>

#include "graph/proto_wire.hpp"
#include "ortlm/error.hpp"

namespace ortlm::graph {
namespace {

// Field numbers from onnx.proto.
namespace field {
constexpr uint32_t kModelIrVersion = 1, kModelProducerName = 2, kModelProducerVersion = 3, kModelGraph = 7,
                   kModelOpsetImport = 8;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5;
constexpr uint32_t kNodeOpType = 4, kNodeAttribute = 5, kNodeDomain = 7;
constexpr uint32_t kAttributeGraph = 6, kAttributeGraphs = 11;
constexpr uint32_t kTensorExternalData = 13;
constexpr uint32_t kEntryKey = 1, kEntryValue = 2;
constexpr uint32_t kOpsetDomain = 1, kOpsetVersion = 2;
}  // namespace field

using proto::kLengthDelimited;
using proto::kVarint;
using proto::MessageReader;

void read_graph(MessageReader graph, OnnxSummary& out, int depth);

void read_external_data(MessageReader tensor, OnnxSummary& out) {
  while (tensor.next()) {
    if (!tensor.is(field::kTensorExternalData, kLengthDelimited)) continue;
    std::string_view key, value;
    for (auto entry = tensor.sub(); entry.next();) {
      if (entry.is(field::kEntryKey, kLengthDelimited)) key = entry.bytes();
      if (entry.is(field::kEntryValue, kLengthDelimited)) value = entry.bytes();
    }
    if (key == "location") out.external_data_files.emplace(value);
  }
}

void read_node(MessageReader node, OnnxSummary& out, int depth) {
  std::string_view op_type, domain;
  while (node.next()) {
    if (node.is(field::kNodeOpType, kLengthDelimited)) op_type = node.bytes();
    if (node.is(field::kNodeDomain, kLengthDelimited)) domain = node.bytes();
    if (node.is(field::kNodeAttribute, kLengthDelimited)) {
      for (auto attr = node.sub(); attr.next();) {
        if (attr.is(field::kAttributeGraph, kLengthDelimited) ||
            attr.is(field::kAttributeGraphs, kLengthDelimited))
          read_graph(attr.sub(), out, depth + 1);
      }
    }
  }
  std::string name = (domain.empty() || domain == "ai.onnx")
                         ? std::string(op_type)
                         : std::string(domain) + ":" + std::string(op_type);
  ++out.operators[name];
}

void read_graph(MessageReader graph, OnnxSummary& out, int depth) {
  if (depth > 64) throw Error("ONNX graph nesting deeper than 64 subgraphs");
  while (graph.next()) {
    if (graph.is(field::kGraphNode, kLengthDelimited)) read_node(graph.sub(), out, depth);
    if (graph.is(field::kGraphInitializer, kLengthDelimited)) {
      ++out.initializer_count;
      read_external_data(graph.sub(), out);
    }
  }
}

}  // namespace

OnnxSummary read_onnx_summary(const std::filesystem::path& path) {
  const proto::MappedFile file(path);
  return summarize_onnx(file.view(), path.string());
}

OnnxSummary summarize_onnx(std::string_view bytes, const std::string& name) {
  if (bytes.empty()) throw Error(name + ": not a valid ONNX model: the file is empty");
  OnnxSummary out;
  bool has_graph = false;
  std::string producer_name, producer_version;
  for (MessageReader model(bytes, 0, name); model.next();) {
    switch (model.field()) {
      case field::kModelIrVersion:
        out.ir_version = static_cast<int64_t>(model.value());
        break;
      case field::kModelProducerName:
        producer_name = model.bytes();
        break;
      case field::kModelProducerVersion:
        producer_version = model.bytes();
        break;
      case field::kModelGraph:
        has_graph = true;
        read_graph(model.sub(), out, 0);
        break;
      case field::kModelOpsetImport: {
        std::string domain;
        int64_t version = 0;
        for (auto opset = model.sub(); opset.next();) {
          if (opset.is(field::kOpsetDomain, kLengthDelimited)) domain = opset.bytes();
          if (opset.is(field::kOpsetVersion, kVarint)) version = static_cast<int64_t>(opset.value());
        }
        out.opsets[domain == "ai.onnx" ? "" : domain] = version;
        break;
      }
      default:
        break;
    }
  }
  if (out.ir_version <= 0 || !has_graph)
    throw Error(name + ": not a valid ONNX model: no " + (has_graph ? "ir_version" : "graph") + " field");
  out.producer = producer_name + (producer_version.empty() ? "" : " " + producer_version);
  return out;
}

}  // namespace ortlm::graph
