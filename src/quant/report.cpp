#include "quant/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "model/decoder.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "util/file.hpp"

namespace ortlm::quant {
namespace fs = std::filesystem;

namespace {

// Teacher-forced log-softmax rows of one model over a window of tokens.
class Scorer {
 public:
  explicit Scorer(const Model& model) : runner_(model.decoder()), kv_(model.decoder().layout) {}

  // log p(. | window[0..i]) for every position i of `window`, row after row.
  const std::vector<double>& log_probs(std::span<const int32_t> window) {
    kv_.reset(1, static_cast<int64_t>(window.size()));
    model::ForwardBatch batch;
    batch.rows = {{.tokens = window, .logits = model::LogitsWanted::all}};
    const model::Logits& logits = runner_.run(batch, kv_);
    const size_t vocab = static_cast<size_t>(logits.vocab());
    rows_.resize(window.size() * vocab);
    for (size_t i = 0; i < window.size(); ++i) {
      const auto row = logits.at(0, i);
      const double top = *std::max_element(row.begin(), row.end());
      double sum = 0;
      for (float x : row) sum += std::exp(static_cast<double>(x) - top);
      const double log_sum = top + std::log(sum);
      for (size_t v = 0; v < vocab; ++v) rows_[i * vocab + v] = static_cast<double>(row[v]) - log_sum;
    }
    return rows_;
  }

 private:
  model::ModelRunner runner_;
  model::PaddedKvCache kv_;
  std::vector<double> rows_;
};

uintmax_t model_bytes(const Model& model) {
  uintmax_t bytes = fs::file_size(model.onnx_path());
  const fs::path dir = model.onnx_path().parent_path();
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    const std::string stem = model.onnx_path().filename().string();
    if (entry.is_regular_file() && name != stem && name.rfind(stem, 0) == 0) bytes += entry.file_size();
  }
  return bytes;
}

double decode_speed(const std::shared_ptr<Model>& model, int32_t tokens) {
  Generator generator(model);
  GenerationOptions options;
  options.greedy = true;
  options.stop_at_eos = false;
  options.max_new_tokens = tokens;
  std::vector<int32_t> prompt{model->config().bos_token_id.value_or(0)};
  generator.generate(prompt, options);  // warm-up: first runs allocate and prepack
  return generator.generate(prompt, options).decode_tokens_per_second();
}

}  // namespace

AccuracyReport compare_models(const fs::path& original_path, const fs::path& quantized_path,
                              const fs::path& text, const ReportOptions& options) {
  const auto original = Model::load(original_path, options.session);
  const auto quantized = Model::load(quantized_path, options.session);
  if (!original->tokenizer())
    throw Error(original_path.string() + ": the model has no tokenizer to read the text");
  if (original->config().vocab_size != quantized->config().vocab_size)
    throw Error(quantized_path.string() + ": its vocabulary size differs from the original's");
  auto ids = original->tokenizer()->encode_ids(util::read_file(text));
  if (ids.size() > options.max_text_tokens) ids.resize(options.max_text_tokens);
  if (ids.size() < 2) throw Error(text.string() + ": fewer than two tokens to predict from");

  AccuracyReport r;
  r.original = {.path = original->onnx_path(), .bytes = model_bytes(*original)};
  r.quantized = {.path = quantized->onnx_path(), .bytes = model_bytes(*quantized)};
  Scorer a(*original), b(*quantized);
  const size_t vocab = static_cast<size_t>(original->config().vocab_size);
  const int32_t context = original->config().context_length;
  // Windows of the context length, at most 1024 tokens and 8M log-probabilities (64 MB) per model.
  const size_t window = std::max<size_t>(16, std::min({static_cast<size_t>(context > 0 ? context : 512),
                                                       size_t{1024}, (size_t{8} << 20) / vocab}));
  double nll_a = 0, nll_b = 0, kl = 0;
  size_t agree = 0;
  // Windows overlap by one token, so that every token but the first is predicted once.
  for (size_t start = 0; start + 1 < ids.size(); start += window - 1) {
    const auto span = std::span<const int32_t>(ids).subspan(start, std::min(window, ids.size() - start));
    const auto& pa = a.log_probs(span);
    const auto& pb = b.log_probs(span);
    for (size_t i = 0; i + 1 < span.size(); ++i) {
      const double* x = pa.data() + i * vocab;
      const double* y = pb.data() + i * vocab;
      const auto next = static_cast<size_t>(span[i + 1]);
      nll_a -= x[next];
      nll_b -= y[next];
      double d = 0;
      for (size_t v = 0; v < vocab; ++v) d += std::exp(x[v]) * (x[v] - y[v]);
      kl += d;
      agree += std::max_element(x, x + vocab) - x == std::max_element(y, y + vocab) - y;
      ++r.positions;
    }
  }
  const auto n = static_cast<double>(r.positions);
  r.original.perplexity = std::exp(nll_a / n);
  r.quantized.perplexity = std::exp(nll_b / n);
  r.top1_agreement = static_cast<double>(agree) / n;
  r.mean_kl = kl / n;
  r.original.decode_tokens_per_second = decode_speed(original, options.decode_tokens);
  r.quantized.decode_tokens_per_second = decode_speed(quantized, options.decode_tokens);
  return r;
}

std::string format_report(const AccuracyReport& r) {
  char buffer[1024];
  const auto mb = [](uintmax_t bytes) { return static_cast<double>(bytes) / 1e6; };
  std::snprintf(buffer, sizeof buffer,
                "| model | file MB | perplexity | top-1 agreement | mean KL (nats) | decode tok/s |\n"
                "|---|---|---|---|---|---|\n"
                "| original | %.2f | %.4f | - | - | %.1f |\n"
                "| quantized | %.2f | %.4f | %.2f%% | %.5f | %.1f |\n"
                "(%zu positions; perplexity %+.2f%%, size x%.3f, speed x%.2f)\n",
                mb(r.original.bytes), r.original.perplexity, r.original.decode_tokens_per_second,
                mb(r.quantized.bytes), r.quantized.perplexity, 100.0 * r.top1_agreement, r.mean_kl,
                r.quantized.decode_tokens_per_second, r.positions,
                100.0 * (r.quantized.perplexity / r.original.perplexity - 1.0),
                static_cast<double>(r.quantized.bytes) / static_cast<double>(r.original.bytes),
                r.quantized.decode_tokens_per_second / r.original.decode_tokens_per_second);
  return buffer;
}

}  // namespace ortlm::quant
