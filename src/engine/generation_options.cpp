// The ranges of GenerationOptions, checked in one place for the library, the CLI and (soon) the server.
#include <cmath>
#include <cstdio>
#include <string>

#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"

namespace ortlm {

namespace {

std::string number(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

[[noreturn]] void out_of_range(const char* field, double value, const char* range) {
  throw Error(std::string(field) + " must be " + range + ", not " + number(value));
}

}  // namespace

void validate(const GenerationOptions& options, int32_t vocab_size) {
  if (options.max_new_tokens < 0) out_of_range("max_new_tokens", options.max_new_tokens, ">= 0");
  const float t = options.temperature;
  // NaN fails every comparison, so each check is written to be false for NaN.
  if (!(t == 0.0f || (t >= kMinTemperature && t <= kMaxTemperature)))
    out_of_range("temperature", t, "0 (greedy) or in [0.001, 1000]");
  if (options.top_k < 0) out_of_range("top_k", options.top_k, ">= 0 (0 = off)");
  if (!(options.top_p > 0.0f && options.top_p <= 1.0f))
    out_of_range("top_p", options.top_p, "in (0, 1] (1 = off)");
  if (!(options.min_p >= 0.0f && options.min_p <= 1.0f))
    out_of_range("min_p", options.min_p, "in [0, 1] (0 = off)");
  const float penalty = options.repetition_penalty;
  if (!(penalty >= kMinRepetitionPenalty && penalty <= kMaxRepetitionPenalty))
    out_of_range("repetition_penalty", penalty, "in [0.01, 100] (1 = off)");
  for (const auto& stop : options.stop_strings)
    if (stop.empty()) throw Error("a stop string must not be empty");
  for (int32_t id : options.stop_token_ids) {
    if (id < 0) throw Error("stop token id " + std::to_string(id) + " must be >= 0");
    if (vocab_size > 0 && id >= vocab_size)
      throw Error("stop token id " + std::to_string(id) + " is outside the model's vocabulary [0, " +
                  std::to_string(vocab_size) + ")");
  }
}

}  // namespace ortlm
