#pragma once
// Text generation with a KV cache: prefill once, then one token per step.
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ortlm/model.hpp"

namespace ortlm {

struct GenerationOptions {
  int32_t max_new_tokens = 256;
  bool greedy = false;       // argmax; ignores the sampling fields below
  float temperature = 1.0f;  // <= 0 means greedy
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  float repetition_penalty = 1.0f;
  uint64_t seed = 0;
  bool stop_at_eos = true;                // the model's eos ids end generation
  std::vector<int32_t> stop_token_ids;    // extra ids that end generation
  std::vector<std::string> stop_strings;  // generation ends once the text contains one (it is cut off)
};

enum class StopReason { eos, stop_token, stop_string, max_tokens, context_full, cancelled };
const char* to_string(StopReason reason);

struct GenerationResult {
  std::vector<int32_t> prompt_ids;
  std::vector<int32_t> new_ids;
  std::string text;  // decoded text of new_ids (empty when the model has no tokenizer)
  StopReason stop_reason = StopReason::max_tokens;
  double prefill_seconds = 0;
  double decode_seconds = 0;
  double decode_tokens_per_second() const;
};

// Called with each new id and the complete UTF-8 text it completed (possibly empty); return false to
// stop. Text held back at the end (an unfinished stop-string prefix, trailing bytes) comes last with id -1.
using TokenCallback = std::function<bool(int32_t id, std::string_view text)>;

class Generator {
 public:
  explicit Generator(std::shared_ptr<Model> model);
  ~Generator();
  // Encodes `prompt` with the model's tokenizer (adding BOS as the model is configured) and generates.
  GenerationResult generate(std::string_view prompt, const GenerationOptions& options,
                            const TokenCallback& on_token = {});
  GenerationResult generate(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                            const TokenCallback& on_token = {});

 private:
  struct State;
  std::shared_ptr<Model> model_;
  std::unique_ptr<State> state_;
};

}  // namespace ortlm
