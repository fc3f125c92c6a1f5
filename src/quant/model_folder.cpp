#include "quant/model_folder.hpp"

#include <array>

#include "model/model_files.hpp"
#include "ortlm/error.hpp"

namespace ortlm::quant {
namespace fs = std::filesystem;

namespace {

// What a model folder holds besides its ONNX files (Hugging Face and GenAI names).
constexpr std::array kFolderFiles{"config.json",
                                  "generation_config.json",
                                  "genai_config.json",
                                  "tokenizer.json",
                                  "tokenizer_config.json",
                                  "special_tokens_map.json",
                                  "added_tokens.json",
                                  "vocab.json",
                                  "merges.txt",
                                  "tokenizer.model",
                                  "chat_template.jinja",
                                  "chat_template.json",
                                  "preprocessor_config.json"};

}  // namespace

std::string default_onnx_name(const QuantizeOptions& options) {
  return "model_q" + std::to_string(options.format.bits) + (options.fp16 ? "f16" : "") + ".onnx";
}

QuantizedFolder quantize_folder(const fs::path& model, const fs::path& out, const QuantizeOptions& options,
                                const std::string& name) {
  const auto files = model::locate_model_files(model);
  std::error_code ec;
  if (fs::exists(out, ec) && fs::equivalent(out, files.folder, ec))
    throw Error(out.string() + ": the output folder is the model's own folder; choose another");
  if (!name.empty() && (fs::path(name).filename() != name || fs::path(name).extension() != ".onnx"))
    throw Error("--name must be a file name ending in .onnx, not '" + name + "'");
  QuantizedFolder q;
  const bool genai = fs::exists(files.folder / "genai_config.json");
  q.onnx = genai ? out / files.onnx.lexically_relative(files.folder)
                 : out / "onnx" / (name.empty() ? default_onnx_name(options) : name);
  fs::create_directories(q.onnx.parent_path(), ec);
  if (ec) throw Error(q.onnx.parent_path().string() + ": cannot create the folder: " + ec.message());
  q.result = quantize_model(files.onnx, q.onnx, options);  // first: a refused model leaves no files
  for (const char* file : kFolderFiles) {
    if (!fs::is_regular_file(files.folder / file)) continue;
    fs::copy_file(files.folder / file, out / file, fs::copy_options::overwrite_existing, ec);
    if (ec) throw Error((out / file).string() + ": cannot copy: " + ec.message());
    q.copied.emplace_back(file);
  }
  return q;
}

}  // namespace ortlm::quant
