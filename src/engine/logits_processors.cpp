#include "engine/logits_processors.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::engine {

namespace {

bool in_range(std::span<const float> logits, int32_t id) {
  return id >= 0 && static_cast<size_t>(id) < logits.size();
}

void ban(std::span<float> logits, int32_t id) {
  if (in_range(logits, id)) logits[id] = -INFINITY;
}

}  // namespace

void add_logit_bias(std::span<float> logits, std::span<const std::pair<int32_t, float>> bias) {
  for (const auto& [id, value] : bias)
    if (in_range(logits, id)) logits[id] += value;
}

void apply_repetition_penalty(std::span<float> logits, std::span<const int32_t> history, float penalty,
                              std::span<uint8_t> seen) {
  for (int32_t id : history) {
    if (!in_range(logits, id) || static_cast<size_t>(id) >= seen.size() || seen[id]) continue;
    seen[id] = 1;
    logits[id] = logits[id] < 0 ? logits[id] * penalty : logits[id] / penalty;
  }
  for (int32_t id : history)
    if (id >= 0 && static_cast<size_t>(id) < seen.size()) seen[id] = 0;
}

void apply_presence_frequency_penalties(std::span<float> logits, std::span<const int32_t> generated,
                                        float presence, float frequency, std::span<int32_t> counts) {
  for (int32_t id : generated)
    if (in_range(logits, id) && static_cast<size_t>(id) < counts.size()) ++counts[id];
  // The second pass meets each id as often as it occurs: the first meeting applies it and clears the
  // count, so that the scratch is zero again at the end.
  for (int32_t id : generated) {
    if (!in_range(logits, id) || static_cast<size_t>(id) >= counts.size() || counts[id] == 0) continue;
    logits[id] -= frequency * static_cast<float>(counts[id]) + presence;
    counts[id] = 0;
  }
}

void ban_repeated_ngrams(std::span<float> logits, std::span<const int32_t> history, int32_t ngram_size) {
  if (ngram_size <= 0) return;
  const size_t n = static_cast<size_t>(ngram_size);
  if (history.size() + 1 < n) return;  // no n-gram can be completed yet
  // The n - 1 last ids: every n-gram of the history that starts with them bars its last id.
  const auto tail = history.last(n - 1);
  for (size_t start = 0; start + n <= history.size(); ++start)
    if (std::equal(tail.begin(), tail.end(), history.begin() + static_cast<ptrdiff_t>(start)))
      ban(logits, history[start + n - 1]);
}

void ban_bad_words(std::span<float> logits, std::span<const int32_t> history,
                   std::span<const std::vector<int32_t>> bad_words) {
  for (const auto& word : bad_words) {
    if (word.empty()) continue;
    if (word.size() == 1) {
      ban(logits, word[0]);
      continue;
    }
    if (word.size() > history.size()) continue;  // as transformers: longer than the ids so far
    const auto prefix = std::span<const int32_t>(word).first(word.size() - 1);
    if (std::equal(prefix.begin(), prefix.end(), history.end() - static_cast<ptrdiff_t>(prefix.size())))
      ban(logits, word.back());
  }
}

void ban_eos_before_min_new_tokens(std::span<float> logits, size_t generated_count, int32_t min_new_tokens,
                                   std::span<const int32_t> eos_ids) {
  if (min_new_tokens <= 0 || generated_count >= static_cast<size_t>(min_new_tokens)) return;
  for (int32_t id : eos_ids) ban(logits, id);
}

LogitsProcessors::LogitsProcessors(const GenerationOptions& options, int32_t vocab_size,
                                   std::span<const int32_t> eos_ids)
    : logit_bias_(options.logit_bias),
      repetition_penalty_(options.repetition_penalty),
      presence_penalty_(options.presence_penalty),
      frequency_penalty_(options.frequency_penalty),
      no_repeat_ngram_size_(options.no_repeat_ngram_size),
      min_new_tokens_(options.min_new_tokens),
      eos_ids_(eos_ids.begin(), eos_ids.end()) {
  // transformers' NoBadWordsLogitsProcessor drops the words that are exactly one eos id.
  for (const auto& word : options.bad_words_ids) {
    const bool is_eos =
        word.size() == 1 && std::find(eos_ids.begin(), eos_ids.end(), word[0]) != eos_ids.end();
    if (!is_eos) bad_words_.push_back(word);
  }
  const size_t vocab = static_cast<size_t>(std::max(vocab_size, 0));
  if (repetition_penalty_ != 1.0f) seen_.assign(vocab, 0);
  if (presence_penalty_ != 0.0f || frequency_penalty_ != 0.0f) counts_.assign(vocab, 0);
}

void LogitsProcessors::apply(std::span<float> logits, std::span<const int32_t> history,
                             size_t prompt_length) {
  if (prompt_length > history.size())
    throw Error("the prompt length " + std::to_string(prompt_length) + " is more than the " +
                std::to_string(history.size()) + " ids of the history");
  if (!logit_bias_.empty()) add_logit_bias(logits, logit_bias_);
  if (repetition_penalty_ != 1.0f) apply_repetition_penalty(logits, history, repetition_penalty_, seen_);
  if (!counts_.empty())
    apply_presence_frequency_penalties(logits, history.subspan(prompt_length), presence_penalty_,
                                       frequency_penalty_, counts_);
  if (no_repeat_ngram_size_ > 0) ban_repeated_ngrams(logits, history, no_repeat_ngram_size_);
  if (!bad_words_.empty()) ban_bad_words(logits, history, bad_words_);
  if (min_new_tokens_ > 0)
    ban_eos_before_min_new_tokens(logits, history.size() - prompt_length, min_new_tokens_, eos_ids_);
}

}  // namespace ortlm::engine
