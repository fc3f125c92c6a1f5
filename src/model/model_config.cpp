#include "model/model_config.hpp"

#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::model {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// The first of `keys` present in `object` as an integer.
std::optional<int32_t> first_int(const json& object, std::initializer_list<const char*> keys) {
  for (const char* key : keys) {
    auto it = object.find(key);
    if (it != object.end() && it->is_number_integer()) return it->get<int32_t>();
  }
  return std::nullopt;
}

// eos_token_id may be a number or a list of numbers.
void read_eos(const json& object, std::vector<int32_t>& eos, const std::string& origin) {
  auto it = object.find("eos_token_id");
  if (it == object.end() || it->is_null()) return;
  eos.clear();
  if (it->is_number_integer()) {
    eos.push_back(it->get<int32_t>());
  } else if (it->is_array()) {
    for (const auto& id : *it) {
      if (!id.is_number_integer()) throw Error(origin + ": eos_token_id must hold integers");
      eos.push_back(id.get<int32_t>());
    }
  } else {
    throw Error(origin + ": eos_token_id must be an integer or a list of integers");
  }
}

void set_if(std::optional<int32_t> value, int32_t& field) {
  if (value && field == 0) field = *value;
}

void read_attention_facts(const json& c, AttentionFacts& facts) {
  if (auto it = c.find("rope_theta"); it != c.end() && it->is_number()) facts.rope_theta = it->get<double>();
  if (auto it = c.find("rope_scaling"); it != c.end() && !it->is_null()) {
    const std::string type = it->is_object() ? it->value("rope_type", it->value("type", std::string())) : "";
    facts.plain_rope = facts.plain_rope && type == "default";
  }
  if (auto it = c.find("partial_rotary_factor"); it != c.end() && it->is_number())
    facts.plain_rope = facts.plain_rope && it->get<double>() == 1.0;
}

void read_hf_config(const fs::path& file, ModelConfig& config, AttentionFacts& attention) {
  const json root = util::read_json_file(file);
  // Multimodal configs (Gemma 3, ...) keep the language model's facts in text_config.
  const json& c =
      root.contains("text_config") && root["text_config"].is_object() ? root["text_config"] : root;
  config.model_type = root.value("model_type", std::string());
  set_if(first_int(c, {"vocab_size"}), config.vocab_size);
  set_if(
      first_int(c, {"max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length", "seq_length"}),
      config.context_length);
  set_if(first_int(c, {"num_hidden_layers", "n_layer", "num_layers"}), config.num_layers);
  read_attention_facts(c, attention);
  const auto heads = first_int(c, {"num_attention_heads", "n_head"});
  if (heads) attention.num_heads = *heads;
  set_if(first_int(c, {"num_key_value_heads", "multi_query_group_num"}), config.num_kv_heads);
  set_if(heads, config.num_kv_heads);
  const auto hidden = first_int(c, {"hidden_size", "n_embd", "d_model"});
  set_if(first_int(c, {"head_dim"}), config.head_size);
  if (config.head_size == 0 && hidden && heads && *heads > 0) config.head_size = *hidden / *heads;
  for (const json* obj : {&root, &c}) {
    if (auto v = first_int(*obj, {"bos_token_id"})) config.bos_token_id = v;
    if (auto v = first_int(*obj, {"pad_token_id"})) config.pad_token_id = v;
    read_eos(*obj, config.eos_token_ids, file.string());
  }
}

void read_genai_config(const fs::path& file, ConfigFiles& out) {
  const json root = util::read_json_file(file);
  if (!root.contains("model") || !root["model"].is_object())
    throw Error(file.string() + ": no \"model\" object");
  const json& m = root["model"];
  ModelConfig& config = out.config;
  config.model_type = m.value("type", std::string());
  set_if(first_int(m, {"vocab_size"}), config.vocab_size);
  set_if(first_int(m, {"context_length"}), config.context_length);
  if (auto v = first_int(m, {"bos_token_id"})) config.bos_token_id = v;
  if (auto v = first_int(m, {"pad_token_id"})) config.pad_token_id = v;
  read_eos(m, config.eos_token_ids, file.string());
  if (!m.contains("decoder")) throw Error(file.string() + ": model.decoder is missing");
  const json& d = m["decoder"];
  set_if(first_int(d, {"num_hidden_layers"}), config.num_layers);
  set_if(first_int(d, {"num_key_value_heads"}), config.num_kv_heads);
  set_if(first_int(d, {"head_size"}), config.head_size);
  auto name = [&](const char* section, const char* key, std::string& field) {
    if (d.contains(section) && d[section].contains(key)) field = d[section][key].get<std::string>();
  };
  IoNames& n = out.names;
  name("inputs", "input_ids", n.input_ids);
  name("inputs", "attention_mask", n.attention_mask);
  name("inputs", "position_ids", n.position_ids);
  name("inputs", "past_key_names", n.past_key);
  name("inputs", "past_value_names", n.past_value);
  name("inputs", "past_names", n.past_combined);
  name("outputs", "logits", n.logits);
  name("outputs", "present_key_names", n.present_key);
  name("outputs", "present_value_names", n.present_value);
  name("outputs", "present_names", n.present_combined);
  out.genai = true;
}

}  // namespace

std::string layer_name(const std::string& pattern, int layer) {
  const auto at = pattern.find("%d");
  if (at == std::string::npos) return pattern;
  return pattern.substr(0, at) + std::to_string(layer) + pattern.substr(at + 2);
}

ConfigFiles read_model_config(const fs::path& folder) {
  ConfigFiles out;
  ModelConfig& config = out.config;
  try {
    if (fs::exists(folder / "genai_config.json")) read_genai_config(folder / "genai_config.json", out);
    if (fs::exists(folder / "config.json")) read_hf_config(folder / "config.json", config, out.attention);
    if (fs::exists(folder / "generation_config.json")) {
      const json g = util::read_json_file(folder / "generation_config.json");
      if (auto v = first_int(g, {"bos_token_id"})) config.bos_token_id = v;
      if (auto v = first_int(g, {"pad_token_id"})) config.pad_token_id = v;
      read_eos(g, config.eos_token_ids, (folder / "generation_config.json").string());
    }
    if (fs::exists(folder / "tokenizer_config.json")) {
      const json t = util::read_json_file(folder / "tokenizer_config.json");
      config.add_bos_token = t.value("add_bos_token", false);
    }
  } catch (const json::exception& e) {
    throw Error(folder.string() + ": unexpected value in a config file: " + e.what());
  }
  return out;
}

}  // namespace ortlm::model
