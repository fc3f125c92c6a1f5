#include "cli/prompts_file.hpp"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <type_traits>

#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::cli {

namespace {

// More prompts than this in one file is a mistake (a wrong file), not a batch.
constexpr size_t kMaxPrompts = 100000;

[[noreturn]] void wrong_type(const nlohmann::json& value, const std::string& where, const char* key) {
  throw Error(where + ": \"" + key + "\" has the wrong type (" + value.type_name() + ")");
}

// An integer that fits T exactly: nlohmann's get<T>() would wrap -1 into a uint64 seed or
// 4294967297 into an int32, and truncate 2.5.
template <typename T>
T get_integer(const nlohmann::json& value, const std::string& where, const char* key) {
  if (!value.is_number_integer()) wrong_type(value, where, key);
  if (value.is_number_unsigned()) {
    const auto v = value.get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<T>::max()))
      throw Error(where + ": \"" + key + "\" " + std::to_string(v) + " is out of range");
    return static_cast<T>(v);
  }
  const auto v = value.get<int64_t>();
  if (v < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
      (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
    throw Error(where + ": \"" + key + "\" " + std::to_string(v) + " is out of range");
  return static_cast<T>(v);
}

template <typename T>
T get(const nlohmann::json& value, const std::string& where, const char* key) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    return get_integer<T>(value, where, key);
  } else if constexpr (std::is_same_v<T, std::vector<int32_t>>) {
    if (!value.is_array()) wrong_type(value, where, key);
    std::vector<int32_t> out;
    for (const auto& item : value) out.push_back(get_integer<int32_t>(item, where, key));
    return out;
  } else {
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception&) {
      wrong_type(value, where, key);
    }
  }
}

std::vector<std::string> strings(const nlohmann::json& value, const std::string& where, const char* key) {
  if (value.is_string()) return {value.get<std::string>()};
  return get<std::vector<std::string>>(value, where, key);
}

using Json = nlohmann::json;

// A generation option a JSON line may set: its key, how it is read into the options, and whether
// setting it means sampling (the CLI's default is greedy).
struct OptionKey {
  const char* name;
  void (*set)(GenerationOptions& options, const Json& value, const std::string& where, const char* key);
  bool samples = false;
};

template <auto Member>
void set_member(GenerationOptions& options, const Json& value, const std::string& where, const char* key) {
  using T = std::remove_cvref_t<decltype(options.*Member)>;
  options.*Member = get<T>(value, where, key);
}

void set_seed(GenerationOptions& options, const Json& value, const std::string& where, const char* key) {
  options.seed = get<uint64_t>(value, where, key);
}

void set_stop(GenerationOptions& options, const Json& value, const std::string& where, const char* key) {
  options.stop_strings = strings(value, where, key);
}

void set_early_stopping(GenerationOptions& options, const Json& value, const std::string& where,
                        const char* key) {
  const auto mode = get<std::string>(value, where, key);
  if (mode != "heuristic" && mode != "on" && mode != "never")
    throw Error(where + ": \"early_stopping\" must be \"heuristic\", \"on\" or \"never\", not \"" + mode +
                "\"");
  options.early_stopping = mode == "on"      ? EarlyStopping::on
                           : mode == "never" ? EarlyStopping::never
                                             : EarlyStopping::heuristic;
}

constexpr OptionKey kOptionKeys[] = {
    {"max_new_tokens", set_member<&GenerationOptions::max_new_tokens>},
    {"max_length", set_member<&GenerationOptions::max_length>},
    {"greedy", set_member<&GenerationOptions::greedy>},
    {"temperature", set_member<&GenerationOptions::temperature>, true},
    {"top_k", set_member<&GenerationOptions::top_k>, true},
    {"top_p", set_member<&GenerationOptions::top_p>, true},
    {"min_p", set_member<&GenerationOptions::min_p>, true},
    {"typical_p", set_member<&GenerationOptions::typical_p>, true},
    {"repetition_penalty", set_member<&GenerationOptions::repetition_penalty>},
    {"no_repeat_ngram_size", set_member<&GenerationOptions::no_repeat_ngram_size>},
    {"min_new_tokens", set_member<&GenerationOptions::min_new_tokens>},
    {"presence_penalty", set_member<&GenerationOptions::presence_penalty>},
    {"frequency_penalty", set_member<&GenerationOptions::frequency_penalty>},
    {"logprobs", set_member<&GenerationOptions::logprobs>},
    {"seed", set_seed, true},
    {"stop", set_stop},
    {"stop_ids", set_member<&GenerationOptions::stop_token_ids>},
    {"num_beams", set_member<&GenerationOptions::num_beams>},
    {"num_return_sequences", set_member<&GenerationOptions::num_return_sequences>},
    {"length_penalty", set_member<&GenerationOptions::length_penalty>},
    {"early_stopping", set_early_stopping},
};

[[noreturn]] void unknown_key(const std::string& where, const std::string& key) {
  std::string known = "prompt, ids";
  for (const auto& option : kOptionKeys) known += std::string(", ") + option.name;
  throw Error(where + ": unknown key \"" + key + "\" (known: " + known + ")");
}

PromptSpec parse_json_line(const std::string& line, const std::string& where,
                           const GenerationOptions& defaults) {
  const Json record = util::parse_json(line, where);
  if (!record.is_object()) throw Error(where + ": expected a JSON object");
  PromptSpec spec;
  spec.options = defaults;
  GenerationOptions& o = spec.options;
  bool has_prompt = false;
  for (const auto& [key, value] : record.items()) {
    const char* k = key.c_str();
    if (key == "prompt") {
      spec.text = get<std::string>(value, where, k);
      has_prompt = true;
    } else if (key == "ids") {
      spec.ids = get<std::vector<int32_t>>(value, where, k);
      spec.text = value.dump();
      has_prompt = true;
    } else {
      const auto option = std::find_if(std::begin(kOptionKeys), std::end(kOptionKeys),
                                       [&](const OptionKey& candidate) { return key == candidate.name; });
      if (option == std::end(kOptionKeys)) unknown_key(where, key);
      option->set(o, value, where, k);
      if (option->samples) o.greedy = false;
    }
  }
  if (!has_prompt) throw Error(where + ": no \"prompt\" or \"ids\"");
  if (record.contains("prompt") && record.contains("ids"))
    throw Error(where + ": both \"prompt\" and \"ids\"");
  try {
    validate(o);
  } catch (const Error& e) {
    throw Error(where + ": " + e.what());
  }
  return spec;
}

}  // namespace

std::vector<PromptSpec> read_prompts_file(const std::string& path, const GenerationOptions& defaults) {
  std::ifstream file;
  if (path != "-") {
    file.open(path, std::ios::binary);
    if (!file) throw Error(path + ": cannot open the prompts file");
  }
  std::istream& in = path == "-" ? std::cin : file;
  const std::string name = path == "-" ? "standard input" : path;
  std::vector<PromptSpec> specs;
  std::optional<bool> json_lines;
  std::string line;
  for (size_t line_no = 1; std::getline(in, line); ++line_no) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (!json_lines) json_lines = line.front() == '{';
    const std::string where = name + " line " + std::to_string(line_no);
    if (specs.size() == kMaxPrompts)
      throw Error(where + ": more than " + std::to_string(kMaxPrompts) + " prompts in one file");
    if (*json_lines) {
      specs.push_back(parse_json_line(line, where, defaults));
    } else {
      specs.push_back({.text = line, .ids = std::nullopt, .options = defaults});
    }
  }
  if (in.bad()) throw Error(name + ": read error");
  if (specs.empty()) throw Error(name + ": no prompts (one per line, or JSON lines with \"prompt\")");
  return specs;
}

}  // namespace ortlm::cli
