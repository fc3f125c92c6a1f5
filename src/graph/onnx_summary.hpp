#pragma once
// A minimal reader of the ONNX protobuf wire format: enough to validate a model file and list its
// opsets, operators and external data files, without reading the weights (the file is mmapped and
// tensor payloads are skipped).
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace ortlm::graph {

struct OnnxSummary {
  int64_t ir_version = 0;
  std::string producer;                       // producer_name and version
  std::map<std::string, int64_t> opsets;      // domain ("" = ai.onnx) -> version
  std::map<std::string, size_t> operators;    // "OpType" or "domain:OpType" -> node count, subgraphs included
  std::set<std::string> external_data_files;  // locations relative to the model file
  size_t initializer_count = 0;
};

// Throws ortlm::Error naming the file and byte offset when it is not a well-formed ONNX model.
OnnxSummary read_onnx_summary(const std::filesystem::path& path);
// The same for a model in memory; `name` names it in errors.
OnnxSummary summarize_onnx(std::string_view bytes, const std::string& name);

}  // namespace ortlm::graph
