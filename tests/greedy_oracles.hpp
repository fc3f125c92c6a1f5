#pragma once
// Greedy ids of a model file two independent ways, for tests that compare ortlm with onnxruntime-node
// on quantized or converted models: ortlm's Generator, and tools/greedy_ids.mjs (onnxruntime-node).
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ortlm/generator.hpp"
#include "test_support.hpp"

namespace ortlm::test {

// `n` greedy ids after `prompt` (EOS does not stop them), by ortlm, on the KV cache `kv`.
inline std::vector<int32_t> ortlm_greedy(const std::filesystem::path& model,
                                         const std::vector<int32_t>& prompt, int n,
                                         KvCacheKind kv = KvCacheKind::dense) {
  Generator generator(Model::load(model), {.max_batch_rows = 1, .kv_cache = kv});
  GenerationOptions options;
  options.greedy = true;
  options.stop_at_eos = false;
  options.max_new_tokens = n;
  return generator.generate(prompt, options).new_ids;
}

// The same by onnxruntime-node on the .onnx file, as "[id,id,...]"; `prompt` is "id,id,...".
inline std::string node_greedy(const std::filesystem::path& onnx, const std::string& prompt, int n) {
  const auto r = run_command("node " + (source_dir() / "tools" / "greedy_ids.mjs").string() + " " +
                             onnx.string() + " " + prompt + " " + std::to_string(n));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return r.output.substr(0, r.output.find('\n'));
}

// ids as node_greedy prints them.
inline std::string as_json(const std::vector<int32_t>& ids) {
  std::string s = "[";
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s + "]";
}

}  // namespace ortlm::test
