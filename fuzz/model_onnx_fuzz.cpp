// libFuzzer target: arbitrary bytes as an .onnx file, through the summary reader (`ortlm info`,
// external data), the graph reader, its tensor decoding and re-encoding, and the attention
// rewrite's pattern matcher. Any input must be read or fail with ortlm::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/fusion/attention_fusion.hpp"
#include "model/graph/onnx_graph.hpp"
#include "model/onnx_proto.hpp"
#include "ortlm/error.hpp"

namespace {

using namespace ortlm::model;

// An optimum layout naming the graph's own past_key_values.N.* inputs, so the matcher sees them.
IoLayout layout_for(const OnnxGraph& graph) {
  IoLayout layout;
  layout.kv_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
  layout.position_ids = TensorSpec{.name = "position_ids"};
  for (int l = 0; l < 64; ++l) {
    const std::string past = "past_key_values." + std::to_string(l);
    if (!graph.is_graph_input(past + ".key")) break;
    layout.kv.push_back({past + ".key", past + ".value", "present." + std::to_string(l) + ".key",
                         "present." + std::to_string(l) + ".value"});
  }
  layout.kv_heads = 1;
  layout.head_size = 4;
  return layout;
}

void exercise_graph(const OnnxGraph& graph) {
  for (const auto& node : graph.nodes())
    for (const auto& input : node.inputs) (void)graph.float_initializer(input);
  if (!graph.has_subgraphs()) {
    const std::string encoded = graph.serialize({});
    (void)OnnxGraph::from_bytes(encoded, "re-encoded");
  }
  const AttentionGeometry geometry{.num_heads = 2, .kv_heads = 1, .head_size = 4, .max_positions = 16};
  (void)plan_attention_fusion(graph, layout_for(graph), geometry, 17);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    (void)summarize_onnx(bytes, "fuzz.onnx");
  } catch (const ortlm::Error&) {
  }
  try {
    exercise_graph(OnnxGraph::from_bytes(bytes, "fuzz.onnx"));
  } catch (const ortlm::Error&) {
  }
  return 0;
}
