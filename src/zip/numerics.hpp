#pragma once
// What the model's logits depend on besides the input, recorded in every archive and compared
// before any work: a decoder whose floats differ in one bit decodes garbage (caught by the chunk
// checksums, but only after the work), so mismatches known to change the numerics are refused
// up front, naming what differs.
#include <array>
#include <cstdint>
#include <string>

#include "ortlm/model.hpp"

namespace ortlm::zip {

struct Numerics {
  std::array<uint8_t, 32> model_sha256{};      // the .onnx file (and its external data: numerics.cpp)
  std::array<uint8_t, 32> tokenizer_sha256{};  // tokenizer.json (or vocab.json + merges.txt)
  std::string model_name;                      // the model folder's name, for messages only
  std::string ort_version;                     // ONNX Runtime's version (kernels change between versions)
  std::string attention;                       // the load-time attention rewrite: "fused" or "as exported"
  std::string provider;                        // the execution provider (cpu, cuda, ...)
  std::string cpu;                             // architecture and the SIMD features MLAS dispatches on
  uint32_t vocab = 0;                          // logits per position
  uint32_t context = 0;                        // the model's context length
  int32_t start_token = 0;                     // the token each chunk starts from (BOS)
};

// The numerics of `model` run on this machine with `provider`. Hashes the model's files (once per
// call: keep the result). Throws ortlm::Error when the model has no tokenizer, no start token, or
// a vocabulary LLMzip cannot code.
Numerics numerics_of(const Model& model, const std::string& provider);

// The SIMD features of this CPU that change which MLAS kernels run, e.g. "x86_64 avx avx2 fma avx512f".
std::string cpu_features();

// Throws ortlm::Error naming the first difference that makes `archive`'s numerics unreproducible
// here. `allow_platform` lets ONNX Runtime version, provider and CPU differences through (the
// chunk checksums then decide); model, tokenizer, attention rewrite and shapes must always match.
void check_numerics(const Numerics& archive, const Numerics& here, bool allow_platform);

std::string hex(const std::array<uint8_t, 32>& digest);

}  // namespace ortlm::zip
