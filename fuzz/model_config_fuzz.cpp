// libFuzzer target: arbitrary bytes as a model folder's config files. The input is split at NUL
// bytes into genai_config.json, config.json, generation_config.json and tokenizer_config.json (an
// empty part: the file is absent). Any input must either parse or fail with ortlm::Error.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "model/model_config.hpp"
#include "ortlm/error.hpp"
#include "util/file.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  ortlm::model::ConfigTexts texts;
  std::optional<std::string>* parts[] = {&texts.genai_config, &texts.config, &texts.generation_config,
                                         &texts.tokenizer_config};
  size_t start = 0;
  for (auto* part : parts) {
    if (start > input.size()) break;
    const size_t end = std::min(input.find('\0', start), input.size());
    if (end > start) *part = std::string(input.substr(start, end - start));
    start = end + 1;
  }
  try {
    const auto files = ortlm::model::parse_model_config(texts, "fuzz");
    // What the loader relies on: read values are in their documented ranges.
    const auto& c = files.config;
    if (c.context_length < 0 || c.context_length > ortlm::model::limits::kMaxContextLength ||
        c.vocab_size < 0 || c.num_layers < 0 || c.num_kv_heads < 0 || c.head_size < 0)
      __builtin_trap();
  } catch (const ortlm::Error&) {
  }
  try {  // the JSON reader alone, on the whole input
    ortlm::util::parse_json(std::string(input), "fuzz");
  } catch (const ortlm::Error&) {
  }
  return 0;
}
