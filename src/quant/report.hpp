#pragma once
// What quantizing cost, measured on a text: both models read the same tokens (teacher forcing, in
// windows of the context length), and at every position their next-token distributions are
// compared. Perplexity = exp(mean negative log-likelihood of the actual next token); top-1 agreement
// = how often both models' most likely next token is the same; KL = mean over positions of
// KL(original || quantized) in nats. File sizes and greedy decode tokens/s complete the table.
#include <cstdint>
#include <filesystem>
#include <string>

#include "ortlm/model.hpp"

namespace ortlm::quant {

struct ReportOptions {
  SessionOptions session{};
  int32_t decode_tokens = 128;    // tokens decoded (greedy, EOS ignored) to time each model
  size_t max_text_tokens = 4096;  // the text is cut to this many tokens
};

struct ModelFigures {
  std::filesystem::path path;
  uintmax_t bytes = 0;  // the .onnx file and its external data
  double perplexity = 0;
  double decode_tokens_per_second = 0;
};

struct AccuracyReport {
  ModelFigures original, quantized;
  size_t positions = 0;  // next-token predictions compared
  double top1_agreement = 0;
  double mean_kl = 0;
};

// Throws ortlm::Error when a model cannot be loaded, has no tokenizer, the two vocabularies differ,
// or the text has fewer than two tokens.
AccuracyReport compare_models(const std::filesystem::path& original, const std::filesystem::path& quantized,
                              const std::filesystem::path& text, const ReportOptions& options);

// One table, both models side by side.
std::string format_report(const AccuracyReport& report);

}  // namespace ortlm::quant
