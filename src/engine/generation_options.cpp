// The ranges of GenerationOptions, checked in one place for the library, the CLI and (soon) the server.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

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

// `what` is e.g. "stop token id"; the vocabulary is checked only when its size is known.
void check_token_id(const char* what, int32_t id, int32_t vocab_size) {
  if (id < 0) throw Error(std::string(what) + " " + std::to_string(id) + " must be >= 0");
  if (vocab_size > 0 && id >= vocab_size)
    throw Error(std::string(what) + " " + std::to_string(id) + " is outside the model's vocabulary [0, " +
                std::to_string(vocab_size) + ")");
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
  if (!(options.typical_p > 0.0f && options.typical_p <= 1.0f))
    out_of_range("typical_p", options.typical_p, "in (0, 1] (1 = off)");
  if (!(std::fabs(options.presence_penalty) <= kMaxPresencePenalty))
    out_of_range("presence_penalty", options.presence_penalty, "in [-2, 2] (0 = off)");
  if (!(std::fabs(options.frequency_penalty) <= kMaxFrequencyPenalty))
    out_of_range("frequency_penalty", options.frequency_penalty, "in [-2, 2] (0 = off)");
  if (options.no_repeat_ngram_size < 0)
    out_of_range("no_repeat_ngram_size", options.no_repeat_ngram_size, ">= 0 (0 = off)");
  if (options.min_new_tokens < 0) out_of_range("min_new_tokens", options.min_new_tokens, ">= 0");
  for (const auto& stop : options.stop_strings)
    if (stop.empty()) throw Error("a stop string must not be empty");
  if (options.logprobs < 0 || options.logprobs > kMaxLogprobs)
    out_of_range("logprobs", options.logprobs, "[0, 20]");
  static_assert(kMaxLogprobs == 20, "the message above states the range");
  for (int32_t id : options.stop_token_ids) check_token_id("stop token id", id, vocab_size);
  for (size_t i = 0; i < options.bad_words_ids.size(); ++i) {
    if (options.bad_words_ids[i].empty())
      throw Error("bad_words_ids entry " + std::to_string(i + 1) + " is empty: it must hold at least one id");
    for (int32_t id : options.bad_words_ids[i]) check_token_id("bad_words_ids id", id, vocab_size);
  }
  std::vector<int32_t> biased_ids;
  biased_ids.reserve(options.logit_bias.size());
  for (const auto& [id, bias] : options.logit_bias) {
    check_token_id("logit_bias token id", id, vocab_size);
    if (!(std::fabs(bias) <= kMaxLogitBias))
      throw Error("logit_bias for token id " + std::to_string(id) + " must be in [-100, 100], not " +
                  number(bias));
    biased_ids.push_back(id);
  }
  // Two biases for one id would leave which one counts to the order given: refused. Sorted, so that a
  // long list (from a client) costs n log n, not n^2.
  std::sort(biased_ids.begin(), biased_ids.end());
  if (const auto twice = std::adjacent_find(biased_ids.begin(), biased_ids.end()); twice != biased_ids.end())
    throw Error("logit_bias gives token id " + std::to_string(*twice) + " more than once");
}

}  // namespace ortlm
