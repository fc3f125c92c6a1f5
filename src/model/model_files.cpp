#include "model/model_files.hpp"

#include <algorithm>
#include <array>
#include <vector>

#include "model/model_config.hpp"
#include "ortlm/error.hpp"

namespace ortlm::model {
namespace fs = std::filesystem;
namespace {

// transformers.js / onnx-community names, most faithful first.
constexpr std::array kPreferredNames{"model.onnx",           "decoder_model_merged.onnx",
                                     "model_fp16.onnx",      "decoder_model_merged_fp16.onnx",
                                     "model_q4f16.onnx",     "model_q4.onnx",
                                     "model_int8.onnx",      "model_uint8.onnx",
                                     "model_quantized.onnx", "decoder_model_merged_quantized.onnx",
                                     "model_bnb4.onnx"};

std::vector<fs::path> onnx_files_in(const fs::path& dir) {
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (entry.is_regular_file() && entry.path().extension() == ".onnx") found.push_back(entry.path());
  std::sort(found.begin(), found.end());
  return found;
}

fs::path config_folder_for_file(const fs::path& onnx) {
  // onnx/model.onnx keeps its configs one level up.
  const fs::path dir = onnx.parent_path().empty() ? fs::path(".") : onnx.parent_path();
  for (const char* marker : {"config.json", "genai_config.json", "tokenizer.json"})
    if (fs::exists(dir / marker)) return dir;
  if (dir.filename() == "onnx" && dir.has_parent_path()) return dir.parent_path();
  return dir;
}

}  // namespace

ModelFiles locate_model_files(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": no such file or folder");
  if (fs::is_regular_file(path, ec)) {
    if (path.extension() != ".onnx")
      throw Error(path.string() + ": expected a model folder or an .onnx file");
    return {path, config_folder_for_file(path)};
  }
  if (!fs::is_directory(path, ec)) throw Error(path.string() + ": not a file or folder");

  if (fs::exists(path / "genai_config.json")) {
    const fs::path onnx = path / genai_decoder_file(path / "genai_config.json");
    if (!fs::is_regular_file(onnx, ec))
      throw Error((path / "genai_config.json").string() + ": model.decoder.filename '" +
                  onnx.lexically_relative(path).string() + "' is not a file in the folder");
    return {onnx, path};
  }
  for (const fs::path& dir : {path / "onnx", path}) {
    for (const char* name : kPreferredNames)
      if (fs::exists(dir / name)) return {dir / name, path};
  }
  for (const fs::path& dir : {path / "onnx", path}) {
    const auto files = onnx_files_in(dir);
    if (files.size() == 1) return {files.front(), path};
    if (files.size() > 1) {
      std::string list;
      for (const auto& f : files) list += (list.empty() ? "" : ", ") + f.filename().string();
      throw Error(dir.string() + ": several .onnx files (" + list + "); name the one to use");
    }
  }
  throw Error(path.string() +
              ": no .onnx model found (looked for onnx/model*.onnx, model.onnx, genai_config.json)");
}

}  // namespace ortlm::model
