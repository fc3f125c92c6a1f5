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

// Beam search does not sample: a warper set while sampling is on would be silently ignored.
void check_beam_search(const GenerationOptions& options) {
  if (!is_beam_search(options)) return;
  const std::string beams = "num_beams " + std::to_string(options.num_beams);
  const auto conflict = [&](const std::string& what) {
    throw Error(beams + " runs beam search, which does not sample: " + what +
                " conflicts with it (set greedy, or leave the sampling options at their defaults)");
  };
  if (!is_greedy(options)) {
    if (options.temperature != 1.0f) conflict("temperature " + number(options.temperature));
    if (options.top_k != 0) conflict("top_k " + std::to_string(options.top_k));
    if (options.top_p != 1.0f) conflict("top_p " + number(options.top_p));
    if (options.min_p != 0.0f) conflict("min_p " + number(options.min_p));
    if (options.typical_p != 1.0f) conflict("typical_p " + number(options.typical_p));
  }
  if (!options.stop_strings.empty())
    throw Error(beams + ": stop_strings are not supported with beam search (stop_token_ids are)");
}

}  // namespace

const char* to_string(EarlyStopping mode) {
  switch (mode) {
    case EarlyStopping::heuristic:
      return "heuristic";
    case EarlyStopping::on:
      return "on";
    case EarlyStopping::never:
      return "never";
  }
  return "?";
}

void validate(const GenerationOptions& options, int32_t vocab_size) {
  if (options.max_new_tokens < 0) out_of_range("max_new_tokens", options.max_new_tokens, ">= 0");
  if (options.max_length < 0)
    out_of_range("max_length", options.max_length, ">= 0 (0 = unset; else more than the prompt's length)");
  if (options.num_beams < 1 || options.num_beams > kMaxBeams)
    out_of_range("num_beams", options.num_beams, "in [1, 32] (1 = no beam search)");
  if (options.num_return_sequences < 1 || options.num_return_sequences > options.num_beams)
    throw Error("num_return_sequences must be in [1, num_beams = " + std::to_string(options.num_beams) +
                "], not " + std::to_string(options.num_return_sequences));
  if (!std::isfinite(options.length_penalty))
    out_of_range("length_penalty", options.length_penalty, "finite");
  const auto early = static_cast<int>(options.early_stopping);
  if (early < 0 || early > static_cast<int>(EarlyStopping::never))
    out_of_range("early_stopping", early, "heuristic, on or never");
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
  check_beam_search(options);
}

}  // namespace ortlm
