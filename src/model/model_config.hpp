#pragma once
// Reading a model's facts from config.json, generation_config.json, tokenizer_config.json and
// genai_config.json (ONNX Runtime GenAI), including the I/O names GenAI configs declare. Every value
// read is type- and range-checked; errors name the file and the key (`config.json:
// max_position_embeddings: expected an integer, got a string`).
#include <filesystem>
#include <optional>
#include <string>

#include "ortlm/model.hpp"

namespace ortlm::model {

// Graph I/O name patterns (%d = layer). Defaults are the optimum / transformers.js names.
struct IoNames {
  std::string input_ids = "input_ids";
  std::string attention_mask = "attention_mask";
  std::string position_ids = "position_ids";
  std::string past_key = "past_key_values.%d.key";
  std::string past_value = "past_key_values.%d.value";
  std::string present_key = "present.%d.key";
  std::string present_value = "present.%d.value";
  std::string past_combined;  // GenAI GPT-2: "past_%d", key and value stacked on axis 0
  std::string present_combined;
  std::string logits = "logits";
};

// Attention facts only the graph rewrite needs (graph/passes/attention_fusion).
struct AttentionFacts {
  int32_t num_heads = 0;
  double rope_theta = 10000.0;
  bool plain_rope = true;  // no rope_scaling and partial_rotary_factor 1
};

struct ConfigFiles {
  ModelConfig config;
  AttentionFacts attention;
  IoNames names;
};

// The ranges config values must lie in. Generous for every published model (Llama 4 declares a
// context of 10,485,760), small enough that sizes derived from them stay far from overflowing.
namespace limits {
inline constexpr int64_t kMaxContextLength = ortlm::kMaxContextLength;  // public: SessionOptions too
inline constexpr int64_t kMaxVocabSize = int64_t{1} << 24;
inline constexpr int64_t kMaxLayers = 4096;
inline constexpr int64_t kMaxHeads = 4096;
inline constexpr int64_t kMaxHeadSize = 16384;
inline constexpr int64_t kMaxHiddenSize = int64_t{1} << 20;
}  // namespace limits

// The texts of the config files a folder has (absent ones empty), so they can be parsed from memory.
struct ConfigTexts {
  std::optional<std::string> genai_config, config, generation_config, tokenizer_config;
};
ConfigTexts read_config_texts(const std::filesystem::path& folder);

// Parses them; `folder` only names the files in error messages. Throws ortlm::Error.
ConfigFiles parse_model_config(const ConfigTexts& texts, const std::filesystem::path& folder);

// Reads whatever config files the folder has; missing ones leave fields unset (0 / empty).
ConfigFiles read_model_config(const std::filesystem::path& folder);

// genai_config.json's model.decoder.filename: a relative path inside the folder holding the file.
// Throws ortlm::Error naming the file when it is missing, not a string or leaves the folder.
std::filesystem::path genai_decoder_file(const std::filesystem::path& genai_config);

// "past_key_values.%d.key" with layer 3 -> "past_key_values.3.key".
std::string layer_name(const std::string& pattern, int layer);

}  // namespace ortlm::model
