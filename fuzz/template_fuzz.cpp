// libFuzzer target: parse and render arbitrary template text against a small fixed conversation.
// Any input must either render or fail with ortlm::Error: never crash, hang or leak. Seeds:
// fuzz/corpus/template_fuzz/ (real templates and constructs that stress the limits).
#include <cstddef>
#include <cstdint>
#include <string>

#include "ortlm/error.hpp"
#include "template/template.hpp"

namespace {

const nlohmann::ordered_json& context() {
  static const nlohmann::ordered_json ctx = nlohmann::ordered_json::parse(R"({
    "messages": [
      {"role": "system", "content": "You are terse."},
      {"role": "user", "content": [{"type": "text", "text": "Hi \u00e9\u4f60\ud83d\ude00"}, {"type": "image"}]},
      {"role": "assistant", "content": "<think>x</think>ok", "tool_calls": [
        {"type": "function", "function": {"name": "f", "arguments": {"a": 1, "b": [true, null, 2.5]}}}]},
      {"role": "tool", "content": "42"}
    ],
    "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
    "documents": null, "add_generation_prompt": true, "bos_token": "<s>", "eos_token": "</s>",
    "enable_thinking": false
  })");
  return ctx;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  ortlm::tpl::Limits limits;
  limits.max_output = 1 << 20;
  limits.max_steps = 200'000;
  limits.max_range = 10'000;
  limits.max_memory = 64u << 20;  // the default (256 MiB) is safe too, but slower to reach
  try {
    ortlm::tpl::Template tpl(std::string(reinterpret_cast<const char*>(data), size));
    tpl.render(context(), limits);
  } catch (const ortlm::Error&) {
  }
  return 0;
}
