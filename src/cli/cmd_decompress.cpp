// `ortlm decompress [MODEL] [IN [OUT]]`: the original bytes of an LLMzip archive, or an error
// naming the mismatch (model, tokenizer, numerics) or the damaged chunk; never other bytes.
#include <chrono>
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/llmzip_files.hpp"
#include "cli/session_defaults.hpp"
#include "ortlm/llmzip.hpp"

namespace ortlm::cli {

namespace {

struct DecompressArgs {
  LlmzipPaths paths;
  SessionOptions session = default_session_options();
  bool force = false;
  bool stats = false;
};

void run(DecompressArgs& args) {
  resolve(args.paths, "decompress");
  const std::string archive = read_input(args.paths.in);
  llmzip::inspect(archive);  // a damaged header or table fails before the model loads
  const auto model = load_llmzip_model(args.paths.model, args.session);
  const llmzip::Codec codec(model, args.session.provider);
  llmzip::DecompressOptions options;
  options.force = args.force;
  options.progress = progress_bar("decompressing");
  const auto start = std::chrono::steady_clock::now();
  const std::string output = codec.decompress(archive, options);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_output(args.paths.out, output, false);
  if (args.stats)
    std::fprintf(stderr, "decompressed %llu -> %llu bytes in %.3f s (%.1f KB/s)\n",
                 static_cast<unsigned long long>(archive.size()),
                 static_cast<unsigned long long>(output.size()), seconds,
                 seconds > 0 ? static_cast<double>(output.size()) / 1000 / seconds : 0.0);
}

}  // namespace

void register_decompress(CLI::App& app) {
  auto args = std::make_shared<DecompressArgs>();
  auto* cmd = app.add_subcommand("decompress", "Decompress an LLMzip archive (the same model is needed)");
  add_llmzip_positionals(cmd, args->paths);
  cmd->add_flag("--force", args->force,
                "Try even with another ONNX Runtime version, provider or CPU (the chunk checksums decide)");
  cmd->add_flag("--stats", args->stats, "Print the time and speed (stderr)");
  add_session_flags(cmd, args->session);
  cmd->callback([args] { run(*args); });
}

}  // namespace ortlm::cli
