#pragma once
// Every model layout the loader supports, as generated test models (random weights) plus the shared
// GenAI GPT-2, with the logits tolerance each allows when two ways of computing are compared.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "ortlm/generator.hpp"
#include "test_support.hpp"

namespace ortlm::test {

struct LayoutCase {
  std::string name;
  std::filesystem::path path;
  float tolerance;
};

inline std::vector<LayoutCase> layout_cases() {
  std::vector<LayoutCase> out;
  for (const char* name : {"llama-optimum", "llama-optimum-external", "llama-no-position-ids", "llama-merged",
                           "genai-gqa", "gpt2-optimum", "genai-gpt2-int32"})
    out.push_back({name, test_models() / name, 1e-4f});
  // fp16 KV: one path reads keys/values rounded to fp16, the other may keep them in fp32 inside.
  out.push_back({"llama-optimum-fp16", test_models() / "llama-optimum-fp16", 2e-2f});
  out.push_back({"tiny-random-gpt2-fp32", shared_models() / "tiny-random-gpt2-fp32", 1e-4f});
  return out;
}

// Greedy decoding of exactly `max_new_tokens` tokens (EOS does not stop it): the engine tests' oracle runs.
inline GenerationOptions greedy(int32_t max_new_tokens) {
  GenerationOptions options;
  options.greedy = true;
  options.stop_at_eos = false;
  options.max_new_tokens = max_new_tokens;
  return options;
}

// `n` deterministic token ids below `vocab`; `salt` makes different prompts.
inline std::vector<int32_t> token_ids(int32_t vocab, int n, int salt) {
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back((i * 31 + 7 + salt * 13) % vocab);
  return ids;
}

// The largest absolute difference between two logits rows of one length.
inline float max_difference(std::span<const float> a, std::span<const float> b) {
  float worst = 0;
  for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// gtest prints a parameter with this (not as bytes) in test names and failures.
inline void PrintTo(const LayoutCase& c, std::ostream* os) { *os << c.name; }

inline std::string case_name(const std::string& name) {
  std::string out = name;
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

}  // namespace ortlm::test
