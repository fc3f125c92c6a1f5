// libFuzzer target: arbitrary bytes as an .onnx file, through the decoder (the graph and the
// summary `ortlm info` and the external data check read), its tensor decoding and re-encoding,
// and the attention rewrite's pattern matcher. Any input must be read or fail with ortlm::Error.
#include <cstddef>
#include <cstdint>
#include <string>

#include "graph/onnx_graph.hpp"
#include "graph/passes/attention_fusion.hpp"
#include "ortlm/error.hpp"

namespace {

using namespace ortlm::graph;

// Optimum names for the graph's own past_key_values.N.* values, so the matcher sees them.
AttentionIo io_for(const OnnxGraph& graph) {
  AttentionIo io{.kv = {}, .position_ids = "position_ids"};
  for (int l = 0; l < 64; ++l) {
    const std::string past = "past_key_values." + std::to_string(l);
    if (graph.consumers(past + ".key").empty()) break;
    io.kv.push_back({past + ".key", past + ".value", "present." + std::to_string(l) + ".key",
                     "present." + std::to_string(l) + ".value"});
  }
  return io;
}

void exercise_graph(const OnnxGraph& graph) {
  for (const auto& node : graph.nodes())
    for (const auto& input : node.inputs) (void)graph.float_initializer(input);
  if (!graph.has_subgraphs()) {
    const std::string encoded = graph.serialize({});
    (void)OnnxGraph::from_bytes(encoded, "re-encoded");
  }
  const AttentionGeometry geometry{.num_heads = 2, .kv_heads = 1, .head_size = 4, .max_positions = 16};
  (void)plan_attention_fusion(graph, io_for(graph), geometry, 17);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    exercise_graph(OnnxGraph::from_bytes(bytes, "fuzz.onnx"));
  } catch (const ortlm::Error&) {
  }
  return 0;
}
