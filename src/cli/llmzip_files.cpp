#include "cli/llmzip_files.hpp"

#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <iterator>

#include "cli/default_model.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::cli {

namespace fs = std::filesystem;

void add_llmzip_positionals(CLI::App* cmd, LlmzipPaths& paths) {
  cmd->add_option("paths", paths.positionals,
                  "[MODEL] [IN [OUT]]: MODEL (a folder or .onnx file; default models/stories260k), IN and "
                  "OUT files (default or '-': stdin and stdout)")
      ->expected(0, 3);
}

void resolve(LlmzipPaths& paths, const std::string& command) {
  auto& p = paths.positionals;
  if (p.size() > 3) throw CLI::ValidationError(command, "takes [MODEL] [IN [OUT]], at most 3 paths");
  size_t next = 0;
  std::error_code ec;
  if (!p.empty() && (p.size() == 3 || fs::is_directory(p[0], ec) || fs::path(p[0]).extension() == ".onnx"))
    paths.model = p[next++];
  paths.in = next < p.size() ? p[next++] : "-";
  paths.out = next < p.size() ? p[next++] : "-";
}

std::string read_input(const std::string& path) {
  if (path != "-") return util::read_file(path);
  std::string bytes((std::istreambuf_iterator<char>(std::cin)), std::istreambuf_iterator<char>());
  if (std::cin.bad()) throw Error("cannot read standard input");
  return bytes;
}

void write_output(const std::string& path, const std::string& bytes, bool binary) {
  if (path != "-") {
    util::write_file_atomically(path, bytes);
    return;
  }
  if (binary && ::isatty(STDOUT_FILENO) == 1)
    throw Error("refusing to write an archive to a terminal: give OUT, or redirect standard output");
  write_out(bytes);
  flush_out();
}

std::shared_ptr<Model> load_llmzip_model(const std::string& model, const SessionOptions& options) {
  return Model::load(model.empty() ? default_model_path() : fs::path(model), options);
}

llmzip::Progress progress_bar(const std::string& label) {
  auto bar = std::make_shared<ProgressBar>();
  return [bar, label](uint64_t done, uint64_t total) {
    bar->update(label, done, total);
    if (done == total) bar->done();
  };
}

}  // namespace ortlm::cli
