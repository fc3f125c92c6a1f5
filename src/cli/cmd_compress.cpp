// `ortlm compress [MODEL] [IN [OUT]]`: LLMzip, lossless compression by the model's predictions
// (docs/llmzip.md). --stats compares with gzip -9, xz -9 and zstd -19 on the same input.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "cli/llmzip_files.hpp"
#include "cli/session_defaults.hpp"
#include "ortlm/llmzip.hpp"

namespace ortlm::cli {

namespace {

struct CompressArgs {
  LlmzipPaths paths;
  SessionOptions session = default_session_options();
  size_t chunk_bytes = llmzip::kDefaultChunkBytes;
  int rows = llmzip::kDefaultRowsPerPass;
  bool verify = false;
  bool stats = false;
};

double bits_per_byte(uint64_t bytes, uint64_t input) {
  return input ? 8.0 * static_cast<double>(bytes) / static_cast<double>(input) : 0;
}

void print_stats(const llmzip::CompressStats& s) {
  const auto in = s.input_bytes;
  std::fprintf(stderr, "compressed %llu -> %llu bytes: %.4f bits/byte (ratio %.2fx)\n",
               (unsigned long long)in, (unsigned long long)s.archive_bytes,
               bits_per_byte(s.archive_bytes, in),
               s.archive_bytes ? static_cast<double>(in) / static_cast<double>(s.archive_bytes) : 0.0);
  const double ideal_bytes = s.ideal_bits / 8;
  std::fprintf(stderr,
               "model: %llu chunks, %llu bytes, %llu tokens; ideal code length %.1f bytes (sum of -log2 p), "
               "coded in %llu bytes (%+.2f%%)\n",
               (unsigned long long)s.model_chunks, (unsigned long long)s.model_bytes,
               (unsigned long long)s.tokens, ideal_bytes, (unsigned long long)s.payload_bytes,
               ideal_bytes > 0 ? 100.0 * (static_cast<double>(s.payload_bytes) / ideal_bytes - 1) : 0.0);
  std::fprintf(stderr, "raw: %llu chunks, %llu bytes; header and chunk table: %llu bytes\n",
               (unsigned long long)s.raw_chunks, (unsigned long long)s.raw_bytes,
               (unsigned long long)s.overhead_bytes);
  return;
}

void print_baselines(const std::string& input, uint64_t archive_bytes) {
  const auto b = llmzip::baseline_sizes(input);
  const auto line = [&](const char* name, uint64_t size) {
    std::fprintf(stderr, "%-9s %llu bytes: %.4f bits/byte (LLMzip is %.3fx its size)\n", name,
                 (unsigned long long)size, bits_per_byte(size, input.size()),
                 size ? static_cast<double>(archive_bytes) / static_cast<double>(size) : 0.0);
  };
  line("gzip -9:", b.gzip);
  line("xz -9:", b.xz);
  line("zstd -19:", b.zstd);
}

void run(CompressArgs& args) {
  resolve(args.paths, "compress");
  const std::string input = read_input(args.paths.in);
  const auto model = load_llmzip_model(args.paths.model, args.session);
  const llmzip::Codec codec(model, args.session.provider);
  llmzip::CompressOptions options;
  options.chunk_bytes = args.chunk_bytes;
  options.rows_per_pass = args.rows;
  options.verify = args.verify;
  options.progress = progress_bar(args.verify ? "compressing (then verifying)" : "compressing");
  llmzip::CompressStats stats;
  const std::string archive = codec.compress(input, options, &stats);
  write_output(args.paths.out, archive, true);
  if (args.stats) {
    print_stats(stats);
    print_baselines(input, archive.size());
    std::fprintf(stderr, "time: %.3f s (%.1f KB/s%s)\n", stats.seconds,
                 stats.seconds > 0 ? static_cast<double>(input.size()) / 1000 / stats.seconds : 0.0,
                 args.verify ? ", compressing and verifying" : "");
  }
}

}  // namespace

void register_compress(CLI::App& app) {
  auto args = std::make_shared<CompressArgs>();
  auto* cmd = app.add_subcommand("compress", "Compress losslessly with the model's predictions (LLMzip)");
  add_llmzip_positionals(cmd, args->paths);
  cmd->add_option("--chunk", args->chunk_bytes,
                  "Bytes per chunk at most (chunks also end at the model's context; each restarts it)")
      ->check(CLI::Range(llmzip::kMinChunkBytes, llmzip::kMaxChunkBytes))
      ->capture_default_str();
  cmd->add_option("--batch", args->rows,
                  "Chunks coded together as rows of one forward pass (recorded in the archive)")
      ->check(CLI::Range(1, llmzip::kMaxRowsPerPass))
      ->capture_default_str();
  cmd->add_flag("--verify", args->verify, "Decompress the archive and compare before writing it");
  cmd->add_flag(
      "--stats", args->stats,
      "Print bits/byte, the model's ideal code length, and gzip -9 / xz -9 / zstd -19 sizes (stderr)");
  add_session_flags(cmd, args->session);
  cmd->callback([args] { run(*args); });
}

}  // namespace ortlm::cli
