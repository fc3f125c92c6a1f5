// The graph code (src/graph): the ONNX readers name the file and byte of a defect.
#include <gtest/gtest.h>

#include <string>

#include "graph/onnx_graph.hpp"
#include "graph/onnx_summary.hpp"
#include "ortlm/error.hpp"

namespace ortlm::graph {
namespace {

TEST(OnnxReaders, FromBytesNameTheByte) {
  const std::string truncated("\x3a\x05\x0a", 3);  // graph field of length 5 with 1 byte left
  try {
    summarize_onnx(truncated, "m.onnx");
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(),
                 "m.onnx: not a valid ONNX model: length 5 runs past the end (truncated file?) at byte 2");
  }
  EXPECT_THROW(OnnxGraph::from_bytes(truncated, "m.onnx"), Error);
}

}  // namespace
}  // namespace ortlm::graph
