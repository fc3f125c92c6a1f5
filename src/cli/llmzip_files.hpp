#pragma once
// What `ortlm compress` and `ortlm decompress` share: their positional arguments ([MODEL] [IN
// [OUT]]), reading the input and writing the output (files, or stdin/stdout for "-" or none),
// loading the model, and the progress bar.
#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "ortlm/llmzip.hpp"
#include "ortlm/model.hpp"

namespace ortlm::cli {

struct LlmzipPaths {
  std::vector<std::string> positionals;  // [MODEL] [IN [OUT]] as given
  std::string model, in, out;            // after resolve(): "" = the bundled model, "-" = stdin/stdout
};

// Registers the positionals on `cmd` (MODEL is told apart by being a folder or an .onnx file).
void add_llmzip_positionals(CLI::App* cmd, LlmzipPaths& paths);
// Splits the positionals; throws CLI::ValidationError for more than the three allowed.
void resolve(LlmzipPaths& paths, const std::string& command);

std::string read_input(const std::string& path);
// Writes atomically to a file, or to stdout ("-"). `binary` refuses a terminal on stdout.
void write_output(const std::string& path, const std::string& bytes, bool binary);

std::shared_ptr<Model> load_llmzip_model(const std::string& model, const SessionOptions& options);
// A progress bar on stderr when it is a terminal ("label [###   ] 42%"), nothing when piped.
llmzip::Progress progress_bar(const std::string& label);

}  // namespace ortlm::cli
