// `ortlm quantize IN OUT [--bits 4|8] [--block N] [--method search|rtn] ...`: a quantized model folder
// (quant/), and with --report TEXT the accuracy and speed of both models on that text.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/session_defaults.hpp"
#include "quant/model_folder.hpp"
#include "quant/report.hpp"

namespace ortlm::cli {
namespace fs = std::filesystem;

namespace {

struct QuantizeArgs {
  std::string model, out, name, report_text;
  std::string method = "search";
  bool symmetric = false;
  quant::QuantizeOptions options;
  int report_tokens = 128;
  SessionOptions session = default_session_options();
};

void run_quantize(QuantizeArgs& args) {
  args.options.format.symmetric = args.symmetric;
  args.options.method = args.method == "rtn" ? quant::Method::rtn : quant::Method::search;
  ProgressBar bar;
  args.options.progress = [&bar](size_t done, size_t total) { bar.update("quantizing", done, total); };
  const auto q = quant::quantize_folder(args.model, args.out, args.options, args.name);
  bar.done();
  std::string text =
      "wrote " + q.onnx.string() + (q.result.external_data ? " (+ external data)" : "") + ": " +
      std::to_string(q.result.matmuls) + " MatMulNBits" +
      (q.result.stacked ? " (" + std::to_string(q.result.stacked) + " projections stacked by input)" : "") +
      ", " + std::to_string(q.result.gathers) + " GatherBlockQuantized (" +
      std::to_string(args.options.format.bits) + " bits, block " +
      std::to_string(args.options.format.block_size) + ", " + args.method + ", " +
      (args.symmetric ? "symmetric" : "asymmetric") + (args.options.fp16 ? ", float16" : "") + ")\n";
  for (const auto& note : q.result.notes) text += "  note: " + note + "\n";
  write_out(text);
  if (args.report_text.empty()) return;
  const auto report = quant::compare_models(args.model, args.out, args.report_text,
                                            {.session = args.session, .decode_tokens = args.report_tokens});
  write_out(quant::format_report(report));
}

}  // namespace

void register_quantize(CLI::App& app) {
  static QuantizeArgs args;
  auto* cmd = app.add_subcommand("quantize", "Quantize a model's weights to 4 or 8 bits (MatMulNBits)");
  cmd->add_option("model", args.model, "Model folder or .onnx file")->required();
  cmd->add_option("out", args.out, "Output folder (a complete model folder)")->required();
  cmd->add_option("--bits", args.options.format.bits, "Bits per weight: 4 or 8")
      ->check(CLI::IsMember({4, 8}))
      ->capture_default_str();
  cmd->add_option("--block", args.options.format.block_size, "Weights per block: 16, 32, 64 or 128")
      ->check(CLI::IsMember({16, 32, 64, 128}))
      ->capture_default_str();
  cmd->add_option("--method", args.method,
                  "search: per block, the scale and zero point of least squared error; rtn: round to nearest")
      ->check(CLI::IsMember({"search", "rtn"}))
      ->capture_default_str();
  auto* sym = cmd->add_flag("--symmetric", args.symmetric, "No zero points (fixed at 2^(bits-1))");
  cmd->add_flag("--asymmetric{false}", args.symmetric, "Per-block zero points (the default)")->excludes(sym);
  cmd->add_option("--accuracy-level", args.options.accuracy_level,
                  "MatMulNBits accuracy_level: 0 unset, 1 fp32, 2 fp16, 3 bf16, 4 int8 compute")
      ->check(CLI::Range(0, 4))
      ->capture_default_str();
  cmd->add_flag("--embeddings", args.options.embeddings,
                "Quantize the token embedding (GatherBlockQuantized)");
  cmd->add_flag("--lm-head", args.options.lm_head, "Quantize the LM head too (kept float32 by default)");
  cmd->add_flag(
      "--separate-projections{false}", args.options.stack_projections,
      "One MatMulNBits per projection (by default those reading the same input, e.g. q, k and v, are "
      "stacked into one and a Split)");
  cmd->add_flag("--fp16", args.options.fp16,
                "Other float weights, activations, KV cache and logits float16 (q4f16, model_q4f16.onnx)");
  cmd->add_option("--exclude", args.options.exclude, "Keep nodes or weights matching this glob (repeatable)");
  cmd->add_option("--name", args.name,
                  "Output .onnx file name (default: model_q4.onnx, model_q8.onnx, model_q4f16.onnx)");
  cmd->add_option(
         "--report", args.report_text,
         "A text file: compare perplexity, top-1 agreement, KL, sizes and decode speed of both models")
      ->check(CLI::ExistingFile);
  cmd->add_option("--report-tokens", args.report_tokens, "Tokens decoded to time each model")
      ->check(CLI::Range(8, 4096))
      ->capture_default_str();
  cmd->add_option("--threads", args.session.intra_op_threads, "ONNX Runtime threads for --report (0 = auto)")
      ->check(CLI::Range(0, 64));
  cmd->callback([] { run_quantize(args); });
}

}  // namespace ortlm::cli
