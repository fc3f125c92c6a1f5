// The logits processors and sampling warpers against Hugging Face transformers' definitions
// (generation/logits_process.py): each one on small logits whose expected values were worked out by
// hand from those definitions, their order, their edge cases, the ranges validate() enforces, and
// seeded sampling with all of them on the bundled model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <vector>

#include "engine/logits_processors.hpp"
#include "engine/sampler.hpp"
#include "engine/sampling_warpers.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

using engine::Candidate;
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNan = std::numeric_limits<float>::quiet_NaN();

// Logits whose softmax is `probabilities` (which sum to 1).
std::vector<float> logits_of(std::initializer_list<double> probabilities) {
  std::vector<float> logits;
  for (double p : probabilities) logits.push_back(static_cast<float>(std::log(p)));
  return logits;
}

std::vector<Candidate> candidates_of(const std::vector<float>& logits) {
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < logits.size(); ++i) candidates.push_back({static_cast<int32_t>(i), logits[i], 0.0f});
  return candidates;
}

// The ids of the first `count` candidates, in ascending order.
std::vector<int32_t> ids(const std::vector<Candidate>& candidates, size_t count) {
  std::vector<int32_t> result;
  for (size_t i = 0; i < count; ++i) result.push_back(candidates[i].id);
  std::sort(result.begin(), result.end());
  return result;
}

// The ids a sampler picks over `draws` seeds from fresh copies of `logits`.
std::set<int32_t> sampled_ids(const GenerationOptions& options, const std::vector<float>& logits,
                              const std::vector<int32_t>& history, size_t prompt_length, int draws = 300) {
  std::set<int32_t> seen;
  for (int seed = 0; seed < draws; ++seed) {
    engine::Sampler sampler(options, static_cast<int32_t>(logits.size()), static_cast<uint64_t>(seed), {});
    std::vector<float> scratch = logits;
    seen.insert(sampler.next(scratch, history, prompt_length));
  }
  return seen;
}

// --- the processors, one by one -----------------------------------------------------------------

TEST(LogitsProcessors, LogitBiasIsAddedToTheRawLogit) {
  std::vector<float> logits{1.0f, 2.0f, 3.0f};
  const std::vector<std::pair<int32_t, float>> bias{{0, 0.5f}, {2, -1.0f}};
  engine::add_logit_bias(logits, bias);
  EXPECT_EQ(logits, (std::vector<float>{1.5f, 2.0f, 2.0f}));
}

TEST(LogitsProcessors, RepetitionPenaltyDividesPositiveAndMultipliesNegativeOncePerId) {
  std::vector<float> logits{2.0f, -1.0f, 0.5f, 3.0f};
  std::vector<uint8_t> seen(4, 0);
  const std::vector<int32_t> history{0, 1, 0};  // id 0 twice: penalised once
  engine::apply_repetition_penalty(logits, history, 2.0f, seen);
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -2.0f, 0.5f, 3.0f}));
  EXPECT_EQ(seen, std::vector<uint8_t>(4, 0));  // scratch left clean for the next step
}

TEST(LogitsProcessors, PresenceAndFrequencyCountGeneratedIdsOnly) {
  // vLLM: logit -= frequency * count + presence * (count > 0), over the output only.
  GenerationOptions options;
  options.presence_penalty = 0.5f;
  options.frequency_penalty = 0.25f;
  engine::LogitsProcessors processors(options, 5, {});
  const std::vector<int32_t> history{3, 1, 1, 2};  // prompt {3}, generated {1, 1, 2}
  for (int step = 0; step < 2; ++step) {           // twice: the counts must start from zero again
    std::vector<float> logits(5, 0.0f);
    processors.apply(logits, history, 1);
    EXPECT_EQ(logits, (std::vector<float>{0.0f, -1.0f, -0.75f, 0.0f, 0.0f}));
  }
  std::vector<float> logits{0.0f, 1.0f};
  const std::vector<int32_t> prompt_only{1, 1};
  engine::LogitsProcessors(options, 2, {}).apply(logits, prompt_only, 2);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 1.0f}));
}

TEST(LogitsProcessors, NoRepeatNGramBarsTheIdsThatWouldRepeatAnNGram) {
  // n = 3 over 1 2 3 1 2: the 3-grams starting with the last two ids (1 2) end with 3.
  std::vector<float> logits(5, 0.0f);
  engine::ban_repeated_ngrams(logits, std::vector<int32_t>{1, 2, 3, 1, 2}, 3);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, 0.0f, -kInf, 0.0f}));
  // n = 2 over 1 2 3 1 2 1 4 1: after 1 came 2 and 4.
  logits.assign(5, 0.0f);
  engine::ban_repeated_ngrams(logits, std::vector<int32_t>{1, 2, 3, 1, 2, 1, 4, 1}, 2);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, -kInf, 0.0f, -kInf}));
  // n = 1: every id seen.
  logits.assign(5, 0.0f);
  engine::ban_repeated_ngrams(logits, std::vector<int32_t>{4, 2}, 1);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, -kInf, 0.0f, -kInf}));
}

TEST(LogitsProcessors, NoRepeatNGramLongerThanTheHistoryBarsNothing) {
  for (int32_t n : {3, 4, 10}) {
    std::vector<float> logits(3, 1.0f);
    engine::ban_repeated_ngrams(logits, std::vector<int32_t>{1, 1}, n);
    EXPECT_EQ(logits, std::vector<float>(3, 1.0f)) << n;
  }
  std::vector<float> logits(3, 1.0f);
  engine::ban_repeated_ngrams(logits, std::vector<int32_t>{1, 1}, 2);  // (1 1) seen: 1 after 1 barred
  EXPECT_EQ(logits, (std::vector<float>{1.0f, -kInf, 1.0f}));
}

TEST(LogitsProcessors, BadWordsOneIdAlwaysLongerOnesAfterTheirPrefix) {
  const std::vector<std::vector<int32_t>> words{{3}, {1, 2, 4}};
  std::vector<float> logits(5, 0.0f);
  engine::ban_bad_words(logits, std::vector<int32_t>{0, 1, 2}, words);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, 0.0f, -kInf, -kInf}));
  logits.assign(5, 0.0f);
  engine::ban_bad_words(logits, std::vector<int32_t>{0, 2, 1}, words);  // prefix in the wrong order
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, 0.0f, -kInf, 0.0f}));
  // transformers skips a word longer than the ids so far, even when they are its whole prefix.
  logits.assign(5, 0.0f);
  engine::ban_bad_words(logits, std::vector<int32_t>{1, 2}, words);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, 0.0f, -kInf, 0.0f}));
}

TEST(LogitsProcessors, BadWordsThatAreOneEosIdAreDropped) {
  // NoBadWordsLogitsProcessor filters out [eos] entries; a longer word ending in eos still applies.
  GenerationOptions options;
  options.bad_words_ids = {{2}, {1, 2}};
  const std::vector<int32_t> eos{2};
  engine::LogitsProcessors processors(options, 4, eos);
  std::vector<float> logits(4, 0.0f);
  processors.apply(logits, std::vector<int32_t>{0, 3}, 1);
  EXPECT_EQ(logits, std::vector<float>(4, 0.0f));
  processors.apply(logits, std::vector<int32_t>{0, 1}, 1);
  EXPECT_EQ(logits, (std::vector<float>{0.0f, 0.0f, -kInf, 0.0f}));
}

TEST(LogitsProcessors, MinNewTokensBarsEveryEosIdUntilEnoughWereGenerated) {
  GenerationOptions options;
  options.min_new_tokens = 2;
  const std::vector<int32_t> eos{0, 3};
  engine::LogitsProcessors processors(options, 5, eos);
  std::vector<float> logits(5, 1.0f);
  processors.apply(logits, std::vector<int32_t>{4, 4}, 2);  // none generated
  EXPECT_EQ(logits, (std::vector<float>{-kInf, 1.0f, 1.0f, -kInf, 1.0f}));
  logits.assign(5, 1.0f);
  processors.apply(logits, std::vector<int32_t>{4, 4, 1}, 2);  // one generated
  EXPECT_EQ(logits, (std::vector<float>{-kInf, 1.0f, 1.0f, -kInf, 1.0f}));
  logits.assign(5, 1.0f);
  processors.apply(logits, std::vector<int32_t>{4, 4, 1, 1}, 2);  // two: eos allowed
  EXPECT_EQ(logits, std::vector<float>(5, 1.0f));
}

TEST(LogitsProcessors, PromptLengthPastTheHistoryIsAnError) {
  engine::LogitsProcessors processors(GenerationOptions{}, 2, {});
  std::vector<float> logits(2, 0.0f);
  EXPECT_THROW(processors.apply(logits, std::vector<int32_t>{1}, 2), Error);
}

// --- the warpers, one by one ----------------------------------------------------------------------

TEST(SamplingWarpers, TopKKeepsTiesWithTheKthLogit) {
  auto candidates = candidates_of({3.0f, 1.0f, 2.0f, 2.0f, 0.0f});
  EXPECT_EQ(ids(candidates, engine::keep_top_k(candidates, 2)), (std::vector<int32_t>{0, 2, 3}));
  candidates = candidates_of({3.0f, 1.0f, 2.0f, 2.0f, 0.0f});
  EXPECT_EQ(ids(candidates, engine::keep_top_k(candidates, 4)), (std::vector<int32_t>{0, 1, 2, 3}));
  EXPECT_EQ(engine::keep_top_k(candidates, 0), 5u);
  EXPECT_EQ(engine::keep_top_k(candidates, 9), 5u);
}

TEST(SamplingWarpers, TopPKeepsTokensUntilTheMoreLikelyOnesReachP) {
  // p = .5 .3 .15 .05: top_p .75 keeps .5 (0 before it) and .3 (.5 before it), not .15 (.8 before it).
  auto candidates = candidates_of(logits_of({0.15, 0.5, 0.05, 0.3}));
  EXPECT_EQ(ids(candidates, engine::keep_top_p(candidates, 0.75f)), (std::vector<int32_t>{1, 3}));
  candidates = candidates_of(logits_of({0.15, 0.5, 0.05, 0.3}));
  EXPECT_EQ(ids(candidates, engine::keep_top_p(candidates, 0.9f)), (std::vector<int32_t>{0, 1, 3}));
  candidates = candidates_of(logits_of({0.15, 0.5, 0.05, 0.3}));
  EXPECT_EQ(ids(candidates, engine::keep_top_p(candidates, 0.01f)), (std::vector<int32_t>{1}));
}

TEST(SamplingWarpers, MinPKeepsTokensAboveAFractionOfTheTopOne) {
  // p = .5 .3 .15 .05, min_p .2: the floor is .1, so .05 goes.
  auto candidates = candidates_of(logits_of({0.5, 0.3, 0.15, 0.05}));
  EXPECT_EQ(ids(candidates, engine::keep_min_p(candidates, 0.2f)), (std::vector<int32_t>{0, 1, 2}));
  candidates = candidates_of(logits_of({0.5, 0.3, 0.15, 0.05}));
  EXPECT_EQ(ids(candidates, engine::keep_min_p(candidates, 1.0f)), (std::vector<int32_t>{0}));
}

TEST(SamplingWarpers, TypicalKeepsTokensNearTheEntropyEvenDroppingTheMostLikely) {
  // p = .4 .3 .2 .1: entropy H = .4 ln(1/.4) + .3 ln(1/.3) + .2 ln(1/.2) + .1 ln(1/.1) = 1.27985.
  // |-ln p - H| = .36356 (id 0), .07588 (id 1), .32958 (id 2), 1.02273 (id 3): the order is 1 2 0 3,
  // with cumulative probabilities .3 .5 .9 1.
  const auto logits = logits_of({0.4, 0.3, 0.2, 0.1});
  // mass .4: one cumulative value (.3) is below it, so the last kept is the second (id 2).
  auto candidates = candidates_of(logits);
  EXPECT_EQ(ids(candidates, engine::keep_typical(candidates, 0.4f)), (std::vector<int32_t>{1, 2}));
  // mass .6: two below (.3, .5): ids 1 2 0.
  candidates = candidates_of(logits);
  EXPECT_EQ(ids(candidates, engine::keep_typical(candidates, 0.6f)), (std::vector<int32_t>{0, 1, 2}));
  // A tiny mass still keeps one token (min_tokens_to_keep = 1): the one closest to the entropy.
  candidates = candidates_of(logits);
  EXPECT_EQ(ids(candidates, engine::keep_typical(candidates, 0.01f)), (std::vector<int32_t>{1}));
  candidates = candidates_of({5.0f});
  EXPECT_EQ(engine::keep_typical(candidates, 0.01f), 1u);
}

TEST(SamplingWarpers, TypicalKeepsTiesWithTheLastKeptToken) {
  // p = .7 .1 .1 .1: H = .7 ln(1/.7) + .3 ln 10 = .94045; distances .58378 (id 0) and 1.36213 (the
  // others, equal). mass .75: one cumulative value (.7) below it; the last kept is at index 1, a
  // distance the other two share, so all four stay. mass .5: only id 0.
  const auto logits = logits_of({0.7, 0.1, 0.1, 0.1});
  auto candidates = candidates_of(logits);
  EXPECT_EQ(engine::keep_typical(candidates, 0.75f), 4u);
  candidates = candidates_of(logits);
  EXPECT_EQ(ids(candidates, engine::keep_typical(candidates, 0.5f)), (std::vector<int32_t>{0}));
}

// --- the order ------------------------------------------------------------------------------------

TEST(ProcessorOrder, LogitBiasComesBeforeTheRepetitionPenalty) {
  // -1 + 2 = 1, then / 2 = 0.5 (the other order: -1 * 2 + 2 = 0).
  GenerationOptions options;
  options.logit_bias = {{0, 2.0f}};
  options.repetition_penalty = 2.0f;
  std::vector<float> logits{-1.0f, 0.0f};
  engine::LogitsProcessors(options, 2, {}).apply(logits, std::vector<int32_t>{0}, 1);
  EXPECT_EQ(logits[0], 0.5f);
}

TEST(ProcessorOrder, PresencePenaltyComesAfterTheRepetitionPenalty) {
  // 2 / 2 - 1 = 0 (the other order: (2 - 1) / 2 = 0.5).
  GenerationOptions options;
  options.repetition_penalty = 2.0f;
  options.presence_penalty = 1.0f;
  std::vector<float> logits{2.0f, 0.0f};
  engine::LogitsProcessors(options, 2, {}).apply(logits, std::vector<int32_t>{1, 0}, 1);
  EXPECT_EQ(logits[0], 0.0f);
}

TEST(ProcessorOrder, LogitBiasComesBeforeTheTemperature) {
  // Logits 0 0, bias +1 on id 0, temperature .5: (0 + 1) / .5 = 2 gives p0 = e^2 / (e^2 + 1) = .881,
  // above top_p .85, so only id 0 is left. Biasing after the temperature (1 + 0 = 1) gives p0 = .731,
  // and id 1 would be drawn too.
  GenerationOptions options;
  options.temperature = 0.5f;
  options.top_p = 0.85f;
  options.logit_bias = {{0, 1.0f}};
  EXPECT_EQ(sampled_ids(options, {0.0f, 0.0f}, {1}, 1), (std::set<int32_t>{0}));
}

TEST(ProcessorOrder, TemperatureComesBeforeTopP) {
  // p = .6 .3 .1 at temperature .5 becomes .36 .09 .01 / .46 = .783 .196 .022: top_p .75 keeps id 0
  // alone. On the raw probabilities it would keep ids 0 and 1.
  GenerationOptions options;
  options.temperature = 0.5f;
  options.top_p = 0.75f;
  EXPECT_EQ(sampled_ids(options, logits_of({0.6, 0.3, 0.1}), {0}, 1), (std::set<int32_t>{0}));
  options.temperature = 1.0f;
  EXPECT_EQ(sampled_ids(options, logits_of({0.6, 0.3, 0.1}), {0}, 1), (std::set<int32_t>{0, 1}));
}

TEST(ProcessorOrder, TopKComesBeforeTopP) {
  // p = .4 .3 .2 .1, top_k 2 leaves .4 .3, i.e. .571 .429: top_p .5 keeps id 0 alone. Top-p first
  // would keep ids 0 and 1.
  GenerationOptions options;
  options.top_k = 2;
  options.top_p = 0.5f;
  EXPECT_EQ(sampled_ids(options, logits_of({0.4, 0.3, 0.2, 0.1}), {0}, 1), (std::set<int32_t>{0}));
}

TEST(ProcessorOrder, MinPComesBeforeTypical) {
  // p = .4 .3 .2 .1; min_p .3 drops .1 (below .3 x .4), leaving .444 .333 .222, whose entropy is
  // 1.06086: |-ln p - H| = .24993 (id 0), .03776 (id 1), .44322 (id 2), so the order is 1 0 2 with
  // cumulative .333 .778 1. typical_p .35: one value below it, the last kept is id 0: ids 0 and 1.
  // Typical first (order 1 2 0 3, cumulative .3 .5 .9 1, see above) would keep ids 1 and 2.
  GenerationOptions options;
  options.min_p = 0.3f;
  options.typical_p = 0.35f;
  EXPECT_EQ(sampled_ids(options, logits_of({0.4, 0.3, 0.2, 0.1}), {0}, 1), (std::set<int32_t>{0, 1}));
}

TEST(ProcessorOrder, WarpersSeeTheProcessedLogits) {
  // Bad word 0 removes the most likely token before top_k 1 picks among the rest.
  GenerationOptions options;
  options.top_k = 1;
  options.bad_words_ids = {{0}};
  EXPECT_EQ(sampled_ids(options, {3.0f, 2.0f, 1.0f}, {2}, 1, 20), (std::set<int32_t>{1}));
}

// --- greedy decoding goes through the processors too ------------------------------------------

int32_t greedy_pick(GenerationOptions options, std::vector<float> logits, const std::vector<int32_t>& history,
                    size_t prompt_length, const std::vector<int32_t>& eos = {}) {
  options.greedy = true;
  engine::Sampler sampler(options, static_cast<int32_t>(logits.size()), 0, eos);
  return sampler.next(logits, history, prompt_length);
}

TEST(GreedyWithProcessors, LogitBiasOfMinus100RemovesAToken) {
  GenerationOptions options;
  EXPECT_EQ(greedy_pick(options, {1.0f, 5.0f, 2.0f}, {0}, 1), 1);
  options.logit_bias = {{1, -100.0f}};
  EXPECT_EQ(greedy_pick(options, {1.0f, 5.0f, 2.0f}, {0}, 1), 2);
}

TEST(GreedyWithProcessors, EachProcessorChangesTheArgmax) {
  const std::vector<float> logits{1.0f, 5.0f, 4.0f};
  GenerationOptions options;
  options.repetition_penalty = 2.0f;  // 5 / 2 < 4
  EXPECT_EQ(greedy_pick(options, logits, {0, 1}, 2), 2);
  options = {};
  options.frequency_penalty = 0.6f;  // 5 - 2 x .6 < 4
  EXPECT_EQ(greedy_pick(options, logits, {0, 1, 1}, 1), 2);
  options = {};
  options.no_repeat_ngram_size = 2;  // (0 1) seen, the last id is 0
  EXPECT_EQ(greedy_pick(options, logits, {0, 1, 0}, 3), 2);
  options = {};
  options.bad_words_ids = {{0, 1}};
  EXPECT_EQ(greedy_pick(options, logits, {2, 0}, 2), 2);
  options = {};
  options.min_new_tokens = 1;
  EXPECT_EQ(greedy_pick(options, logits, {0}, 1, {1}), 2);
}

TEST(GreedyWithProcessors, NoTokenLeftIsAnError) {
  GenerationOptions options;
  options.bad_words_ids = {{0}, {1}};
  const std::string greedy = test::error_message([&] { greedy_pick(options, {1.0f, 2.0f}, {0}, 1); });
  EXPECT_NE(greedy.find("no token is left to choose"), std::string::npos) << greedy;
  engine::Sampler sampler(options, 2, 0, {});
  std::vector<float> logits{1.0f, 2.0f};
  const std::vector<int32_t> history{0};
  const std::string sampled = test::error_message([&] { sampler.next(logits, history, 1); });
  EXPECT_NE(sampled.find("no token is left to choose"), std::string::npos) << sampled;
}

// --- validate() -----------------------------------------------------------------------------------

TEST(ProcessorOptions, OutOfRangeValuesNameTheFieldAndRange) {
  struct Case {
    void (*set)(GenerationOptions&);
    const char* message;
  };
  const Case cases[] = {
      {[](GenerationOptions& o) { o.typical_p = 0.0f; }, "typical_p must be in (0, 1] (1 = off), not 0"},
      {[](GenerationOptions& o) { o.typical_p = 1.5f; }, "typical_p must be in (0, 1] (1 = off), not 1.5"},
      {[](GenerationOptions& o) { o.typical_p = kNan; }, "typical_p must be in (0, 1] (1 = off), not nan"},
      {[](GenerationOptions& o) { o.presence_penalty = 2.5f; },
       "presence_penalty must be in [-2, 2] (0 = off), not 2.5"},
      {[](GenerationOptions& o) { o.presence_penalty = kNan; },
       "presence_penalty must be in [-2, 2] (0 = off), not nan"},
      {[](GenerationOptions& o) { o.frequency_penalty = -kInf; },
       "frequency_penalty must be in [-2, 2] (0 = off), not -inf"},
      {[](GenerationOptions& o) { o.no_repeat_ngram_size = -1; },
       "no_repeat_ngram_size must be >= 0 (0 = off), not -1"},
      {[](GenerationOptions& o) { o.min_new_tokens = -2; }, "min_new_tokens must be >= 0, not -2"},
      {[](GenerationOptions& o) {
         o.bad_words_ids = {{1}, {}};
       },
       "bad_words_ids entry 2 is empty: it must hold at least one id"},
      {[](GenerationOptions& o) {
         o.bad_words_ids = {{1, -3}};
       },
       "bad_words_ids id -3 must be >= 0"},
      {[](GenerationOptions& o) {
         o.logit_bias = {{-1, 1.0f}};
       },
       "logit_bias token id -1 must be >= 0"},
      {[](GenerationOptions& o) {
         o.logit_bias = {{4, 100.5f}};
       },
       "logit_bias for token id 4 must be in [-100, 100], not 100.5"},
      {[](GenerationOptions& o) {
         o.logit_bias = {{4, kNan}};
       },
       "logit_bias for token id 4 must be in [-100, 100], not nan"},
      {[](GenerationOptions& o) {
         o.logit_bias = {{4, 1.0f}, {2, 1.0f}, {4, -1.0f}};
       },
       "logit_bias gives token id 4 more than once"},
  };
  for (const auto& c : cases) {
    GenerationOptions options;
    c.set(options);
    EXPECT_EQ(test::error_message([&] { validate(options); }), c.message);
  }
}

TEST(ProcessorOptions, IdsAreCheckedAgainstTheVocabulary) {
  GenerationOptions options;
  options.typical_p = 1.0f;
  options.presence_penalty = -2.0f;
  options.frequency_penalty = 2.0f;
  options.bad_words_ids = {{0, 511}};
  options.logit_bias = {{511, -100.0f}, {0, 100.0f}};
  EXPECT_EQ(test::error_message([&] { validate(options, 512); }), "(no error)");
  options.bad_words_ids = {{0, 512}};
  EXPECT_EQ(test::error_message([&] { validate(options, 512); }),
            "bad_words_ids id 512 is outside the model's vocabulary [0, 512)");
  options.bad_words_ids = {};
  options.logit_bias = {{600, 1.0f}};
  EXPECT_EQ(test::error_message([&] { validate(options, 512); }),
            "logit_bias token id 600 is outside the model's vocabulary [0, 512)");
  EXPECT_THROW(engine::Sampler(options, 512, 0, {}), Error);
}

// --- the bundled model ----------------------------------------------------------------------------

class ProcessorsOnBundledModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = Model::load(test::bundled_model()); }
  static void TearDownTestSuite() { model_.reset(); }
  static std::shared_ptr<Model> model_;
};
std::shared_ptr<Model> ProcessorsOnBundledModel::model_;

bool has_repeated_ngram(const std::vector<int32_t>& ids, size_t n) {
  std::set<std::vector<int32_t>> seen;
  for (size_t i = 0; i + n <= ids.size(); ++i)
    if (!seen.insert(std::vector<int32_t>(ids.begin() + i, ids.begin() + i + n)).second) return true;
  return false;
}

TEST_F(ProcessorsOnBundledModel, SeededSamplingWithEveryProcessorReproduces) {
  Generator generator(model_);
  GenerationOptions options;
  options.temperature = 0.9f;
  options.top_k = 50;
  options.top_p = 0.95f;
  options.min_p = 0.02f;
  options.typical_p = 0.9f;
  options.repetition_penalty = 1.1f;
  options.presence_penalty = 0.5f;
  options.frequency_penalty = 0.3f;
  options.no_repeat_ngram_size = 3;
  options.bad_words_ids = {{261}, {298, 315}};
  options.logit_bias = {{432, -5.0f}};
  options.stop_at_eos = false;
  options.max_new_tokens = 60;
  options.seed = 1234;
  const auto a = generator.generate("Once upon a time", options);
  const auto b = generator.generate("Once upon a time", options);
  EXPECT_EQ(a.new_ids, b.new_ids);
  ASSERT_EQ(a.new_ids.size(), 60u);
  options.seed = 1235;
  EXPECT_NE(generator.generate("Once upon a time", options).new_ids, a.new_ids);

  std::vector<int32_t> all = a.prompt_ids;
  all.insert(all.end(), a.new_ids.begin(), a.new_ids.end());
  EXPECT_FALSE(has_repeated_ngram(all, 3));
  for (size_t i = 0; i < a.new_ids.size(); ++i) {
    EXPECT_NE(a.new_ids[i], 261) << i;
    const int32_t before = i > 0 ? a.new_ids[i - 1] : a.prompt_ids.back();
    EXPECT_FALSE(before == 298 && a.new_ids[i] == 315) << i;
  }
}

TEST_F(ProcessorsOnBundledModel, GreedyNoRepeatNGramAndMinNewTokens) {
  Generator generator(model_);
  GenerationOptions options;
  options.greedy = true;
  options.max_new_tokens = 80;
  options.no_repeat_ngram_size = 2;
  const auto result = generator.generate("Once upon a time", options);
  std::vector<int32_t> all = result.prompt_ids;
  all.insert(all.end(), result.new_ids.begin(), result.new_ids.end());
  EXPECT_FALSE(has_repeated_ngram(all, 2));

  // A +100 bias makes eos the first choice; min_new_tokens holds it back for 5 tokens.
  const auto& eos = model_->config().eos_token_ids;
  ASSERT_FALSE(eos.empty());
  options = {};
  options.greedy = true;
  options.max_new_tokens = 20;
  options.logit_bias = {{eos[0], 100.0f}};
  EXPECT_EQ(generator.generate("Once upon a time", options).new_ids, std::vector<int32_t>{eos[0]});
  options.min_new_tokens = 5;
  const auto held = generator.generate("Once upon a time", options);
  ASSERT_EQ(held.new_ids.size(), 6u);
  EXPECT_EQ(held.new_ids.back(), eos[0]);
  EXPECT_EQ(held.stop_reason, StopReason::eos);
}

}  // namespace
}  // namespace ortlm
