// Tokenizer benchmark: tokenizer.json load time and single-threaded encode throughput of ortlm, and, given
// the results of bench/hf_tokenizer_bench.mjs on the same documents, a comparison with Hugging Face
// `tokenizers` against ortlm's targets (encode at least 2x faster, load faster). bench/tokenizer_vs_hf.sh
// runs both.
//
//   bench_tokenizer --corpus CORPUS.json [--hf HF.json] NAME=tokenizer.json ...
//
// Protocol (the same in hf_tokenizer_bench.mjs): load time is the median of kLoadRuns loads; throughput is
// the best of kEncodePasses passes over all documents, encode() one document at a time (with special
// tokens, full Encoding), and encode_batch() on one thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ortlm/tokenizer.hpp"

namespace {

constexpr int kLoadRuns = 5;
constexpr int kEncodePasses = 3;
constexpr double kEncodeTarget = 2.0;  // ortlm encode throughput / HF's best

using Clock = std::chrono::steady_clock;

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

struct Spec {
  std::string name;
  std::string path;
};

struct Result {
  double load_ms = 0;
  double encode_mb_s = 0;
  double batch_mb_s = 0;
  size_t tokens = 0;
};

struct Options {
  std::string corpus;
  std::string hf;
  std::vector<Spec> tokenizers;
};

Options parse_args(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--corpus" && i + 1 < argc) {
      options.corpus = argv[++i];
    } else if (arg == "--hf" && i + 1 < argc) {
      options.hf = argv[++i];
    } else if (auto at = arg.find('='); at != std::string::npos && !arg.starts_with("-")) {
      options.tokenizers.push_back({arg.substr(0, at), arg.substr(at + 1)});
    } else {
      throw std::runtime_error("unknown argument " + arg);
    }
  }
  if (options.corpus.empty() || options.tokenizers.empty()) {
    throw std::runtime_error(
        "usage: bench_tokenizer --corpus CORPUS.json [--hf HF.json] NAME=tokenizer.json ...");
  }
  return options;
}

nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  return nlohmann::json::parse(in);
}

// Best throughput over kEncodePasses runs of `pass`, which returns the number of tokens it produced.
template <typename Pass>
double best_mb_s(size_t bytes, size_t& tokens, Pass&& pass) {
  double best_ms = 1e300;
  for (int i = 0; i < kEncodePasses; ++i) {
    auto start = Clock::now();
    tokens = pass();
    best_ms = std::min(best_ms, elapsed_ms(start));
  }
  return static_cast<double>(bytes) / 1e6 / (best_ms / 1e3);
}

Result bench_one(const Spec& spec, const std::vector<std::string>& docs, size_t bytes) {
  Result result;
  std::vector<double> load_times;
  std::optional<ortlm::Tokenizer> tokenizer;
  for (int run = 0; run < kLoadRuns; ++run) {
    auto start = Clock::now();
    tokenizer.emplace(ortlm::Tokenizer::from_path(spec.path));
    load_times.push_back(elapsed_ms(start));
  }
  std::sort(load_times.begin(), load_times.end());
  result.load_ms = load_times[load_times.size() / 2];

  result.encode_mb_s = best_mb_s(bytes, result.tokens, [&] {
    size_t tokens = 0;
    for (const auto& doc : docs) tokens += tokenizer->encode(doc, true).ids.size();
    return tokens;
  });
  size_t batch_tokens = 0;
  result.batch_mb_s = best_mb_s(bytes, batch_tokens, [&] {
    size_t tokens = 0;
    for (const auto& encoding : tokenizer->encode_batch(docs, true, 1)) tokens += encoding.ids.size();
    return tokens;
  });
  if (batch_tokens != result.tokens)
    throw std::runtime_error(spec.name + ": encode and encode_batch disagree");
  return result;
}

std::string format(const char* pattern, double value) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, value);
  return buffer;
}

void print_ortlm_table(const std::vector<Spec>& specs, const std::vector<Result>& results) {
  std::cout << "| tokenizer | load ms | encode MB/s | encode_batch (1 thread) MB/s | tokens |\n"
            << "|---|---:|---:|---:|---:|\n";
  for (size_t i = 0; i < specs.size(); ++i) {
    const Result& r = results[i];
    std::cout << "| " << specs[i].name << " | " << format("%.1f", r.load_ms) << " | "
              << format("%.2f", r.encode_mb_s) << " | " << format("%.2f", r.batch_mb_s) << " | " << r.tokens
              << " |\n";
  }
}

// Returns whether every tokenizer met the targets.
bool print_comparison(const std::vector<Spec>& specs, const std::vector<Result>& results,
                      const nlohmann::json& hf) {
  std::cout
      << "| tokenizer | load ms ortlm | load ms HF | load HF/ortlm | encode MB/s ortlm | encode_batch(1t) "
         "ortlm | encode HF | encodeBatch(1t) HF | encode ortlm/HF best | same token count | result |\n"
      << "|---|---:|---:|---:|---:|---:|---:|---:|---:|:---:|:---:|\n";
  bool all_pass = true;
  for (size_t i = 0; i < specs.size(); ++i) {
    const Result& r = results[i];
    const auto& h = hf.at("tokenizers").at(specs[i].name);
    double hf_load = h.at("load_ms").get<double>();
    double hf_encode = h.at("encode_mb_s").get<double>();
    double hf_batch = h.at("encode_batch_mb_s").get<double>();
    double load_ratio = hf_load / r.load_ms;
    double encode_ratio = r.encode_mb_s / std::max(hf_encode, hf_batch);
    bool same_tokens = h.at("tokens").get<size_t>() == r.tokens;
    bool pass = encode_ratio >= kEncodeTarget && load_ratio > 1.0;
    all_pass = all_pass && pass;
    std::cout << "| " << specs[i].name << " | " << format("%.1f", r.load_ms) << " | "
              << format("%.1f", hf_load) << " | " << format("%.2fx", load_ratio) << " | "
              << format("%.2f", r.encode_mb_s) << " | " << format("%.2f", r.batch_mb_s) << " | "
              << format("%.2f", hf_encode) << " | " << format("%.2f", hf_batch) << " | "
              << format("%.2fx", encode_ratio) << " | " << (same_tokens ? "yes" : "NO") << " | "
              << (pass ? "PASS" : "FAIL") << " |\n";
  }
  return all_pass;
}

int run(int argc, char** argv) {
  Options options = parse_args(argc, argv);
  auto docs = read_json(options.corpus).get<std::vector<std::string>>();
  size_t bytes = 0;
  for (const auto& doc : docs) bytes += doc.size();
  std::cerr << "bench_tokenizer: " << docs.size() << " documents, " << bytes << " bytes\n";

  std::vector<Result> results;
  for (const auto& spec : options.tokenizers) {
    results.push_back(bench_one(spec, docs, bytes));
    std::cerr << "bench_tokenizer: " << spec.name << ": load " << format("%.1f", results.back().load_ms)
              << " ms, encode " << format("%.2f", results.back().encode_mb_s) << " MB/s\n";
  }
  if (options.hf.empty()) {
    print_ortlm_table(options.tokenizers, results);
    return 0;
  }
  auto hf = read_json(options.hf);
  std::cout << "Corpus: " << docs.size() << " documents, " << format("%.2f", bytes / 1e6)
            << " MB; HF tokenizers " << hf.at("version").get<std::string>()
            << " (Node binding); targets: encode >= " << format("%.0fx", kEncodeTarget)
            << " HF's best, load faster\n\n";
  return print_comparison(options.tokenizers, results, hf) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "bench_tokenizer: " << e.what() << "\n";
    return 2;
  }
}
