#pragma once
// Where the pieces of a model are: the .onnx file and the folder holding its config files.
#include <filesystem>
#include <string>

namespace ortlm::model {

struct ModelFiles {
  std::filesystem::path onnx;    // the decoder graph
  std::filesystem::path folder;  // config.json / genai_config.json / tokenizer.json live here
};

// `path` is a model folder (optimum, onnx-community, transformers.js or ONNX Runtime GenAI layout)
// or one .onnx file. Throws ortlm::Error saying what was looked for.
ModelFiles locate_model_files(const std::filesystem::path& path);

}  // namespace ortlm::model
