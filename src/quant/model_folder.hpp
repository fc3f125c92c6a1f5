#pragma once
// `ortlm quantize IN OUT`: OUT becomes a complete model folder, the model's config, tokenizer,
// generation and chat-template files copied beside the quantized ONNX file (onnx/model_q4.onnx,
// onnx-community's naming; a GenAI folder keeps its decoder's file name so that genai_config.json
// still names it).
#include <filesystem>
#include <string>
#include <vector>

#include "quant/quantize_model.hpp"

namespace ortlm::quant {

struct QuantizedFolder {
  std::filesystem::path onnx;  // the quantized model file
  std::vector<std::string> copied;
  QuantizeResult result;
};

// model_q4.onnx / model_q8.onnx.
std::string default_onnx_name(const QuantizeOptions& options);

// `model` is a folder or an .onnx file; `name` the output file's name ("" = default_onnx_name).
// Throws ortlm::Error when OUT is the model's own folder or cannot be written.
QuantizedFolder quantize_folder(const std::filesystem::path& model, const std::filesystem::path& out,
                                const QuantizeOptions& options, const std::string& name = "");

}  // namespace ortlm::quant
