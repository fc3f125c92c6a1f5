#pragma once
// Reading a model's facts from config.json, generation_config.json, tokenizer_config.json and
// genai_config.json (ONNX Runtime GenAI), including the I/O names GenAI configs declare.
#include <filesystem>
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

// Attention facts only the graph rewrite needs (model/fusion).
struct AttentionFacts {
  int32_t num_heads = 0;
  double rope_theta = 10000.0;
  bool plain_rope = true;  // no rope_scaling and partial_rotary_factor 1
};

struct ConfigFiles {
  ModelConfig config;
  AttentionFacts attention;
  IoNames names;
  bool genai = false;  // the folder has genai_config.json
};

// Reads whatever config files the folder has; missing ones leave fields unset (0 / empty).
ConfigFiles read_model_config(const std::filesystem::path& folder);

// "past_key_values.%d.key" with layer 3 -> "past_key_values.3.key".
std::string layer_name(const std::string& pattern, int layer);

}  // namespace ortlm::model
