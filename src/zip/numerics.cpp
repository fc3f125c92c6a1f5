#include "zip/numerics.hpp"

#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <set>
#include <sstream>
#include <vector>

#include "model/decoder.hpp"
#include "ortlm/error.hpp"
#include "util/sha256.hpp"
#include "zip/frequencies.hpp"

namespace ortlm::zip {

namespace fs = std::filesystem;

namespace {

std::array<uint8_t, 32> digest_from_hex(const std::string& text) {
  std::array<uint8_t, 32> digest{};
  if (text.size() != 64) throw Error("internal: a SHA-256 of " + std::to_string(text.size()) + " hex digits");
  for (size_t i = 0; i < 32; ++i)
    digest[i] = static_cast<uint8_t>(std::stoi(text.substr(2 * i, 2), nullptr, 16));
  return digest;
}

// One file's SHA-256 (so it equals `sha256sum FILE`), or for several the SHA-256 of their
// `sha256sum` listing (names relative to the first file's folder, in the order given).
std::array<uint8_t, 32> hash_files(const std::vector<fs::path>& files) {
  if (files.size() == 1) return digest_from_hex(util::sha256_file(files[0]));
  std::string listing;
  for (const auto& f : files) listing += util::sha256_file(f) + "  " + f.filename().string() + "\n";
  return digest_from_hex(util::sha256_hex(listing));
}

// The graph and the external data files ONNX Runtime reads beside it (model.onnx_data,
// model.onnx.data, ...: every file of its folder whose name extends the graph's).
std::vector<fs::path> model_files(const fs::path& onnx) {
  std::vector<fs::path> files{onnx};
  std::set<fs::path> data;
  const std::string stem = onnx.filename().string();
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(onnx.parent_path(), ec)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > stem.size() && name.compare(0, stem.size(), stem) == 0 && entry.is_regular_file(ec))
      data.insert(entry.path());
  }
  files.insert(files.end(), data.begin(), data.end());
  return files;
}

std::vector<fs::path> tokenizer_files(const fs::path& folder) {
  if (fs::exists(folder / "tokenizer.json")) return {folder / "tokenizer.json"};
  return {folder / "vocab.json", folder / "merges.txt"};
}

}  // namespace

std::string hex(const std::array<uint8_t, 32>& digest) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : digest) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string cpu_features() {
#if defined(__x86_64__)
  std::string out = "x86_64";
  __builtin_cpu_init();
  const std::pair<const char*, bool> features[] = {
      {"avx", __builtin_cpu_supports("avx")},
      {"avx2", __builtin_cpu_supports("avx2")},
      {"fma", __builtin_cpu_supports("fma")},
      {"avx512f", __builtin_cpu_supports("avx512f")},
      {"avx512bw", __builtin_cpu_supports("avx512bw")},
      {"avx512dq", __builtin_cpu_supports("avx512dq")},
      {"avx512vl", __builtin_cpu_supports("avx512vl")},
      {"avx512vnni", __builtin_cpu_supports("avx512vnni")},
      {"avx512bf16", __builtin_cpu_supports("avx512bf16")},
  };
  for (const auto& [name, has] : features)
    if (has) out += std::string(" ") + name;
  return out;
#elif defined(__aarch64__)
  return "aarch64";
#else
  return "unknown";
#endif
}

Numerics numerics_of(const Model& model, const std::string& provider) {
  const Tokenizer* tokenizer = model.tokenizer();
  if (!tokenizer)
    throw Error(model.folder().string() + ": the model has no tokenizer.json; LLMzip codes text as tokens");
  const ModelConfig& config = model.config();
  Numerics n;
  const auto start =
      config.bos_token_id
          ? config.bos_token_id
          : (config.eos_token_ids.empty() ? std::nullopt : std::optional(config.eos_token_ids[0]));
  if (!start)
    throw Error(model.folder().string() +
                ": the model has no BOS (or EOS) token id to start each chunk from (config.json)");
  const int64_t vocab = model.decoder().layout.vocab_size;
  if (vocab <= 0 || vocab > kMaxVocab)
    throw Error(model.onnx_path().string() + ": LLMzip codes vocabularies of 1 to " +
                std::to_string(kMaxVocab) + " tokens, not " + std::to_string(vocab));
  if (*start < 0 || *start >= vocab)
    throw Error(model.folder().string() + ": the start token id " + std::to_string(*start) +
                " is outside the vocabulary");
  if (config.context_length <= 0)
    throw Error(model.onnx_path().string() + ": the context length is unknown (give it with --context N)");
  n.model_sha256 = hash_files(model_files(model.onnx_path()));
  n.tokenizer_sha256 = hash_files(tokenizer_files(model.folder()));
  n.model_name = model.folder().filename().string();
  n.ort_version = Ort::GetVersionString();
  // Whether the load-time rewrite ran is what matters (its note's details are not numerics).
  n.attention = model.attention_fusion_note().rfind("fused", 0) == 0 ? "fused" : "as exported";
  n.provider = provider.empty() ? "cpu" : provider;
  n.cpu = cpu_features();
  n.vocab = static_cast<uint32_t>(vocab);
  n.context = static_cast<uint32_t>(config.context_length);
  n.start_token = *start;
  return n;
}

void check_numerics(const Numerics& archive, const Numerics& here, bool allow_platform) {
  const std::string was = "the archive was made with ";
  if (archive.model_sha256 != here.model_sha256)
    throw Error("another model: " + was + "model '" + archive.model_name + "' (SHA-256 " +
                hex(archive.model_sha256) + "), this is '" + here.model_name + "' (SHA-256 " +
                hex(here.model_sha256) + ")");
  if (archive.tokenizer_sha256 != here.tokenizer_sha256)
    throw Error("another tokenizer: " + was + "a tokenizer with SHA-256 " + hex(archive.tokenizer_sha256) +
                ", this model's has SHA-256 " + hex(here.tokenizer_sha256));
  if (archive.vocab != here.vocab || archive.context != here.context ||
      archive.start_token != here.start_token)
    throw Error("another model configuration: " + was + "vocab " + std::to_string(archive.vocab) +
                ", context " + std::to_string(archive.context) + ", start token " +
                std::to_string(archive.start_token) + "; this model has vocab " + std::to_string(here.vocab) +
                ", context " + std::to_string(here.context) + ", start token " +
                std::to_string(here.start_token) + " (a --context flag changes it)");
  if (archive.attention != here.attention)
    throw Error("another attention graph: " + was + "attention '" + archive.attention +
                "', this model loaded '" + here.attention + "' (see --fusion)");
  if (allow_platform) return;
  const std::string hint = " (its floats differ; --force tries anyway, and the chunk checksums then decide)";
  if (archive.ort_version != here.ort_version)
    throw Error("another ONNX Runtime: " + was + "ONNX Runtime " + archive.ort_version + ", this is " +
                here.ort_version + hint);
  if (archive.provider != here.provider)
    throw Error("another execution provider: " + was + "'" + archive.provider + "', this run uses '" +
                here.provider + "'" + hint);
  if (archive.cpu != here.cpu)
    throw Error("another CPU: " + was + "a CPU with '" + archive.cpu + "', this one has '" + here.cpu +
                "' (ONNX Runtime picks other kernels)" + hint);
}

}  // namespace ortlm::zip
