#pragma once
// `ortlm generate --prompts FILE`: many prompts for one batch. Either one prompt per line, or JSON
// lines (when the first non-empty line starts with '{') with per-prompt settings:
//   {"prompt": "Once upon a time", "max_new_tokens": 20, "temperature": 0.8, "seed": 1}
//   {"ids": [1, 403, 407], "greedy": true, "stop": ["\n"]}
//   {"prompt": "The dog", "num_beams": 4, "num_return_sequences": 2, "early_stopping": "never"}
#include <optional>
#include <string>
#include <vector>

#include "ortlm/generator.hpp"

namespace ortlm::cli {

struct PromptSpec {
  std::string text;                         // the prompt text, or the ids as given
  std::optional<std::vector<int32_t>> ids;  // set for a prompt given as token ids
  GenerationOptions options;
};

// Reads `path` ("-" = standard input). Settings a line does not give come from `defaults`. Throws
// ortlm::Error naming the file, the line and the key for a malformed line, an unknown key, a value
// of the wrong type or out of range, or a file without prompts.
std::vector<PromptSpec> read_prompts_file(const std::string& path, const GenerationOptions& defaults);

}  // namespace ortlm::cli
