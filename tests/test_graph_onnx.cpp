// The graph code (src/graph): one decoding pass gives the graph and the model's summary, the
// readers name the file and byte of a defect, and the writer streams the model (external data
// staying references to its file).
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <string>

#include "graph/onnx_graph.hpp"
#include "graph/onnx_summary.hpp"
#include "ortlm/error.hpp"
#include "test_support.hpp"

namespace ortlm::graph {
namespace {

namespace fs = std::filesystem;

TEST(OnnxReaders, FromBytesNameTheByte) {
  const std::string truncated("\x3a\x05\x0a", 3);  // graph field of length 5 with 1 byte left
  try {
    OnnxGraph::from_bytes(truncated, "m.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "m.onnx: not a valid ONNX model: length 5 runs past the end (truncated file?) at byte 2");
  }
  EXPECT_THROW(OnnxGraph::from_bytes("", "m.onnx"), Error);
  EXPECT_THROW(OnnxGraph::from_bytes(std::string("\x08\x07", 2), "m.onnx"), Error);  // no graph
}

TEST(OnnxReaders, TheSummaryComesWithTheGraph) {
  const auto graph = OnnxGraph::load(test::bundled_model() / "onnx" / "model.onnx");
  const OnnxSummary& summary = graph.summary();
  EXPECT_GT(summary.ir_version, 0);
  EXPECT_GE(summary.opsets.at(""), 13);
  EXPECT_TRUE(summary.external_data_files.empty());
  const size_t counted = std::accumulate(summary.operators.begin(), summary.operators.end(), size_t{0},
                                         [](size_t sum, const auto& op) { return sum + op.second; });
  EXPECT_EQ(counted, graph.nodes().size());  // no subgraphs: every operator is a top-level node

  const auto external =
      OnnxGraph::load(test::test_models() / "llama-optimum-external" / "onnx" / "model.onnx");
  EXPECT_EQ(external.summary().external_data_files, std::set<std::string>{"model.onnx_data"});
}

// The writer hands the model over in pieces, the same bytes as the in-memory form; initializers in
// external data are copied as the references they are, not loaded.
TEST(OnnxWriter, StreamsTheModelInPiecesKeepingExternalData) {
  const fs::path onnx = test::test_models() / "llama-optimum-external" / "onnx" / "model.onnx";
  const auto graph = OnnxGraph::load(onnx);
  std::string streamed;
  size_t pieces = 0;
  graph.serialize({}, [&](std::string_view bytes) {
    streamed.append(bytes);
    ++pieces;
  });
  EXPECT_GT(pieces, graph.nodes().size());
  EXPECT_EQ(streamed, graph.serialize({}));
  EXPECT_LT(streamed.size(), fs::file_size(onnx.parent_path() / "model.onnx_data"));
  const auto copy = OnnxGraph::from_bytes(streamed, "copy.onnx");
  EXPECT_EQ(copy.summary().external_data_files, graph.summary().external_data_files);
  EXPECT_EQ(copy.nodes().size(), graph.nodes().size());
  EXPECT_EQ(copy.summary().operators, graph.summary().operators);
}

// Graph inputs and outputs an edit drops or declares (the paged rewrite's): the written model has them,
// and an edit that leaves a dropped input still read, or an output without a producer, is refused.
TEST(OnnxWriter, DropsAndDeclaresGraphInputsAndOutputs) {
  const auto graph = OnnxGraph::load(test::bundled_model() / "onnx" / "model.onnx");
  GraphEdit edit;
  edit.removed_outputs.insert("logits");
  edit.added_inputs.push_back({"extra_in", 7, {-1}, {"n"}});
  edit.added_outputs.push_back({"extra_out", 7, {-1}, {"n"}});
  GraphNode identity;
  identity.op_type = "Identity";
  identity.name = "extra";
  identity.inputs = {"extra_in"};
  identity.outputs = {"extra_out"};
  edit.added.push_back(identity);
  const auto copy = OnnxGraph::from_bytes(graph.serialize(edit), "copy.onnx");
  EXPECT_TRUE(copy.has_input("extra_in"));
  EXPECT_TRUE(copy.has_output("extra_out"));
  EXPECT_FALSE(copy.has_output("logits"));
  EXPECT_TRUE(copy.has_output("present.0.key"));
  EXPECT_LT(copy.nodes().size(), graph.nodes().size() + 1);  // the lm_head MatMul is unused: dropped

  GraphEdit still_read;
  still_read.removed_inputs.insert("attention_mask");
  EXPECT_NE(test::error_message([&] { graph.node_count(still_read); })
                .find("with input 'attention_mask' that "
                      "nothing produces"),
            std::string::npos);
  GraphEdit unproduced;
  unproduced.added_outputs.push_back({"nowhere", 1, {1}, {}});
  EXPECT_NE(test::error_message([&] { graph.node_count(unproduced); }).find("left output 'nowhere'"),
            std::string::npos);
}

}  // namespace
}  // namespace ortlm::graph
