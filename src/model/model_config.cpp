#include "model/model_config.hpp"

#include <cmath>
#include <limits>

#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::model {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// "a string", "an array", ...: what a value is, for "expected an integer, got a string".
std::string describe_type(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    case json::value_t::number_float:
      return "a fractional number (" + value.dump() + ")";
    default:
      return "an integer";
  }
}

// The largest integer a double holds exactly: integral floats (2048.0) up to it are integers.
constexpr double kMaxExactInteger = 9007199254740992.0;

// One JSON object of a config file, every read type- and range-checked. Errors read
// "<file>: <key path>: expected an integer, got a string" or "<file>: <key path> 2000000000 is out
// of range (1..16777216)". Absent keys and null values read as absent.
class Fields {
 public:
  Fields(const json& object, const std::string& file, std::string prefix = {})
      : object_(object), file_(file), prefix_(std::move(prefix)) {
    if (!object.is_object())
      throw Error(file_ + ": " + (prefix_.empty() ? "the document" : prefix_.substr(0, prefix_.size() - 1)) +
                  ": expected an object, got " + describe_type(object));
  }

  const json* find(const char* key) const {
    auto it = object_.find(key);
    return it == object_.end() || it->is_null() ? nullptr : &*it;
  }

  std::optional<int64_t> integer(const char* key, int64_t min, int64_t max) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return checked_integer(*v, prefix_ + key, min, max);
  }

  // The first of `keys` present (configs name the same fact differently), as an int32.
  std::optional<int32_t> first_integer(std::initializer_list<const char*> keys, int64_t min,
                                       int64_t max) const {
    for (const char* key : keys)
      if (auto v = integer(key, min, max)) return static_cast<int32_t>(*v);
    return std::nullopt;
  }

  std::optional<double> number(const char* key, double min, double max) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_number()) fail(key, "expected a number, got " + describe_type(*v));
    const double d = v->get<double>();
    if (!(d >= min && d <= max))  // also refuses NaN
      throw Error(file_ + ": " + prefix_ + key + " " + v->dump() + " is out of range (" + format(min) + ".." +
                  format(max) + ")");
    return d;
  }

  std::optional<std::string> string(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_string()) fail(key, "expected a string, got " + describe_type(*v));
    return v->get<std::string>();
  }

  std::optional<bool> boolean(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    if (!v->is_boolean()) fail(key, "expected true or false, got " + describe_type(*v));
    return v->get<bool>();
  }

  std::optional<Fields> object(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return Fields(*v, file_, prefix_ + key + ".");
  }

  // A token id: 0 up to the largest vocabulary; -1 (Python's "none" in some configs) reads as absent.
  std::optional<int32_t> token_id(const char* key) const {
    const json* v = find(key);
    if (!v) return std::nullopt;
    return checked_token_id(*v, prefix_ + key);
  }

  // eos_token_id: one id or a list of them. Absent leaves `ids` as they are.
  void token_ids(const char* key, std::vector<int32_t>& ids) const {
    const json* v = find(key);
    if (!v) return;
    ids.clear();
    if (!v->is_array()) {
      if (auto id = checked_token_id(*v, prefix_ + key)) ids.push_back(*id);
      return;
    }
    for (size_t i = 0; i < v->size(); ++i)
      if (auto id = checked_token_id((*v)[i], prefix_ + key + "[" + std::to_string(i) + "]"))
        ids.push_back(*id);
  }

  const std::string& file() const { return file_; }

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw Error(file_ + ": " + prefix_ + key + ": " + what);
  }

  static std::string format(double d) {
    std::string s = std::to_string(d);
    s.erase(s.find_last_not_of('0') + 1);
    if (s.ends_with('.')) s.pop_back();
    return s;
  }

  int64_t checked_integer(const json& v, const std::string& name, int64_t min, int64_t max) const {
    auto out_of_range = [&]() -> int64_t {
      throw Error(file_ + ": " + name + " " + v.dump() + " is out of range (" + std::to_string(min) + ".." +
                  std::to_string(max) + ")");
    };
    int64_t value = 0;
    if (v.is_number_unsigned()) {
      if (v.get<uint64_t>() > static_cast<uint64_t>(max)) return out_of_range();
      value = static_cast<int64_t>(v.get<uint64_t>());
    } else if (v.is_number_integer()) {
      value = v.get<int64_t>();
    } else if (v.is_number_float() && std::floor(v.get<double>()) == v.get<double>() &&
               std::fabs(v.get<double>()) <= kMaxExactInteger) {
      value = static_cast<int64_t>(v.get<double>());  // 2048.0, as some exporters write
    } else {
      throw Error(file_ + ": " + name + ": expected an integer, got " + describe_type(v));
    }
    if (value < min || value > max) return out_of_range();
    return value;
  }

  std::optional<int32_t> checked_token_id(const json& v, const std::string& name) const {
    const int64_t id = checked_integer(v, name, -1, limits::kMaxVocabSize - 1);
    if (id < 0) return std::nullopt;
    return static_cast<int32_t>(id);
  }

  const json& object_;
  const std::string& file_;
  std::string prefix_;
};

void set_if(std::optional<int32_t> value, int32_t& field) {
  if (value && field == 0) field = *value;
}

void read_token_ids(const Fields& f, ModelConfig& config) {
  if (auto v = f.token_id("bos_token_id")) config.bos_token_id = v;
  if (auto v = f.token_id("pad_token_id")) config.pad_token_id = v;
  f.token_ids("eos_token_id", config.eos_token_ids);
}

void read_attention_facts(const Fields& c, AttentionFacts& facts) {
  if (auto theta = c.number("rope_theta", 1e-6, 1e15)) facts.rope_theta = *theta;
  if (auto scaling = c.object("rope_scaling")) {
    const auto type = scaling->string("rope_type") ? scaling->string("rope_type") : scaling->string("type");
    facts.plain_rope = facts.plain_rope && type == "default";
  }
  if (auto factor = c.number("partial_rotary_factor", 0.0, 1.0))
    facts.plain_rope = facts.plain_rope && *factor == 1.0;
}

void read_hf_config(const json& root_json, const std::string& file, ModelConfig& config,
                    AttentionFacts& attention) {
  const Fields root(root_json, file);
  // Multimodal configs (Gemma 3, ...) keep the language model's facts in text_config.
  const auto text_config = root.object("text_config");
  const Fields& c = text_config ? *text_config : root;
  if (auto type = root.string("model_type")) config.model_type = *type;
  set_if(c.first_integer({"vocab_size"}, 1, limits::kMaxVocabSize), config.vocab_size);
  set_if(c.first_integer(
             {"max_position_embeddings", "n_positions", "n_ctx", "max_sequence_length", "seq_length"}, 1,
             limits::kMaxContextLength),
         config.context_length);
  set_if(c.first_integer({"num_hidden_layers", "n_layer", "num_layers"}, 1, limits::kMaxLayers),
         config.num_layers);
  read_attention_facts(c, attention);
  const auto heads = c.first_integer({"num_attention_heads", "n_head"}, 1, limits::kMaxHeads);
  if (heads) attention.num_heads = *heads;
  set_if(c.first_integer({"num_key_value_heads", "multi_query_group_num"}, 1, limits::kMaxHeads),
         config.num_kv_heads);
  set_if(heads, config.num_kv_heads);
  const auto hidden = c.first_integer({"hidden_size", "n_embd", "d_model"}, 1, limits::kMaxHiddenSize);
  set_if(c.first_integer({"head_dim"}, 1, limits::kMaxHeadSize), config.head_size);
  if (config.head_size == 0 && hidden && heads) config.head_size = *hidden / *heads;
  read_token_ids(root, config);
  if (text_config) read_token_ids(*text_config, config);
}

void read_genai_config(const json& root_json, const std::string& file, ConfigFiles& out) {
  const Fields root(root_json, file);
  const auto m = root.object("model");
  if (!m) throw Error(file + ": no \"model\" object");
  ModelConfig& config = out.config;
  if (auto type = m->string("type")) config.model_type = *type;
  set_if(m->first_integer({"vocab_size"}, 1, limits::kMaxVocabSize), config.vocab_size);
  set_if(m->first_integer({"context_length"}, 1, limits::kMaxContextLength), config.context_length);
  read_token_ids(*m, config);
  const auto d = m->object("decoder");
  if (!d) throw Error(file + ": model.decoder is missing");
  set_if(d->first_integer({"num_hidden_layers"}, 1, limits::kMaxLayers), config.num_layers);
  set_if(d->first_integer({"num_key_value_heads"}, 1, limits::kMaxHeads), config.num_kv_heads);
  set_if(d->first_integer({"head_size"}, 1, limits::kMaxHeadSize), config.head_size);
  IoNames& n = out.names;
  if (const auto inputs = d->object("inputs")) {
    for (auto [key, field] : {std::pair{"input_ids", &n.input_ids},
                              {"attention_mask", &n.attention_mask},
                              {"position_ids", &n.position_ids},
                              {"past_key_names", &n.past_key},
                              {"past_value_names", &n.past_value},
                              {"past_names", &n.past_combined}})
      if (auto name = inputs->string(key)) *field = *name;
  }
  if (const auto outputs = d->object("outputs")) {
    for (auto [key, field] : {std::pair{"logits", &n.logits},
                              {"present_key_names", &n.present_key},
                              {"present_value_names", &n.present_value},
                              {"present_names", &n.present_combined}})
      if (auto name = outputs->string(key)) *field = *name;
  }
}

std::optional<std::string> read_if_exists(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec)) return std::nullopt;
  return util::read_file(file);
}

}  // namespace

std::string layer_name(const std::string& pattern, int layer) {
  const auto at = pattern.find("%d");
  if (at == std::string::npos) return pattern;
  return pattern.substr(0, at) + std::to_string(layer) + pattern.substr(at + 2);
}

ConfigTexts read_config_texts(const fs::path& folder) {
  return {read_if_exists(folder / "genai_config.json"), read_if_exists(folder / "config.json"),
          read_if_exists(folder / "generation_config.json"),
          read_if_exists(folder / "tokenizer_config.json")};
}

ConfigFiles parse_model_config(const ConfigTexts& texts, const fs::path& folder) {
  ConfigFiles out;
  ModelConfig& config = out.config;
  // genai_config.json first: its facts win over config.json's (set_if fills only what is unset).
  if (texts.genai_config) {
    const std::string file = (folder / "genai_config.json").string();
    read_genai_config(util::parse_json(*texts.genai_config, file), file, out);
  }
  if (texts.config) {
    const std::string file = (folder / "config.json").string();
    read_hf_config(util::parse_json(*texts.config, file), file, config, out.attention);
  }
  if (texts.generation_config) {
    const std::string file = (folder / "generation_config.json").string();
    read_token_ids(Fields(util::parse_json(*texts.generation_config, file), file), config);
  }
  if (texts.tokenizer_config) {
    const std::string file = (folder / "tokenizer_config.json").string();
    const json t = util::parse_json(*texts.tokenizer_config, file);
    config.add_bos_token = Fields(t, file).boolean("add_bos_token").value_or(false);
  }
  return out;
}

ConfigFiles read_model_config(const fs::path& folder) {
  return parse_model_config(read_config_texts(folder), folder);
}

fs::path genai_decoder_file(const fs::path& genai_config) {
  const std::string file = genai_config.string();
  const json root = util::read_json_file(genai_config);
  const auto model = Fields(root, file).object("model");
  const auto decoder = model ? model->object("decoder") : std::nullopt;
  const auto filename = decoder ? decoder->string("filename") : std::nullopt;
  if (!filename || filename->empty()) throw Error(file + ": model.decoder.filename is missing");
  const fs::path relative = fs::path(*filename).lexically_normal();
  bool leaves = relative.is_absolute() || filename->find('\0') != std::string::npos;
  for (const auto& component : relative) leaves = leaves || component == "..";
  if (leaves) throw Error(file + ": model.decoder.filename '" + *filename + "' leaves the model folder");
  return relative;
}

}  // namespace ortlm::model
