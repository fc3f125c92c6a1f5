#pragma once
// What `ortlm info` and loading need to know about an ONNX model file besides its graph: filled by
// OnnxGraph's decoding, in the same pass over the file (tensor payloads are skipped, never read).
#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace ortlm::graph {

struct OnnxSummary {
  int64_t ir_version = 0;
  std::string producer;                       // producer_name and version
  std::map<std::string, int64_t> opsets;      // domain ("" = ai.onnx) -> version
  std::map<std::string, size_t> operators;    // "OpType" or "domain:OpType" -> node count, subgraphs included
  std::set<std::string> external_data_files;  // locations relative to the model file
  // Block-quantized weights: "MatMulNBits (4 bits, block 32, accuracy level 4)" -> node count.
  std::map<std::string, size_t> quantization;
};

}  // namespace ortlm::graph
