// Beam search. The oracle is a plain beam search written here from Hugging Face transformers'
// _beam_search (generation/utils.py): every step it recomputes each running hypothesis's whole
// sequence from scratch (no KV cache, no reorder), scores all num_beams x vocab continuations,
// sorts them all, and keeps its finished hypotheses in transformers' fixed slots. The engine (one
// prefilled row forked into beams, KV gathers, a heap of candidates) must return the same ids and
// scores, for several beam counts, length penalties and early-stopping modes, on three KV layouts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <set>

#include "engine/logits_processors.hpp"
#include "layout_cases.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"
#include "single_sequence.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

struct Hypothesis {
  std::vector<int32_t> new_ids;
  float score;
};

// transformers' algorithm, written as its tensors do it. `stop_ids` end a hypothesis.
std::vector<Hypothesis> reference_beam_search(const Model& model, const std::vector<int32_t>& prompt,
                                              const GenerationOptions& options,
                                              const std::vector<int32_t>& stop_ids) {
  const size_t n = static_cast<size_t>(options.num_beams);
  const size_t prompt_length = prompt.size();
  const size_t max_length = prompt_length + static_cast<size_t>(options.max_new_tokens);
  const size_t keep = std::max<size_t>(2, 1 + stop_ids.size()) * n;
  const float lp = options.length_penalty;
  test::SingleSequence runner(model);
  const size_t vocab = static_cast<size_t>(runner.vocab_size());
  engine::LogitsProcessors processors(options, model.config().vocab_size, model.config().eos_token_ids);

  std::vector<std::vector<int32_t>> running(n, prompt);
  std::vector<float> running_scores(n, -1e9f);
  running_scores[0] = 0;
  std::vector<std::vector<int32_t>> slots(n, prompt);
  std::vector<float> slot_scores(n, -1e9f);
  std::vector<bool> slot_finished(n, false);
  bool unsatisfied = true;
  const auto penalty = [lp](size_t length) {
    return static_cast<float>(std::pow(static_cast<double>(length), static_cast<double>(lp)));
  };
  for (size_t cur = prompt_length;; ++cur) {
    std::vector<float> scores(n * vocab);
    for (size_t b = 0; b < n; ++b) {
      runner.begin(static_cast<int32_t>(running[b].size()));
      const auto logits = runner.forward(running[b]);
      const float max = *std::max_element(logits.begin(), logits.end());
      double sum = 0;
      for (float v : logits) sum += std::exp(static_cast<double>(v - max));
      std::vector<float> log_probs(vocab);
      for (size_t i = 0; i < vocab; ++i) log_probs[i] = (logits[i] - max) - static_cast<float>(std::log(sum));
      processors.apply(log_probs, running[b], prompt_length);
      for (size_t i = 0; i < vocab; ++i) scores[b * vocab + i] = log_probs[i] + running_scores[b];
    }
    // torch.topk over the flattened scores.
    std::vector<size_t> flat(n * vocab);
    std::iota(flat.begin(), flat.end(), size_t{0});
    std::stable_sort(flat.begin(), flat.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
    flat.resize(keep);
    std::vector<std::vector<int32_t>> candidates;
    std::vector<bool> hits;
    for (size_t f : flat) {
      candidates.push_back(running[f / vocab]);
      candidates.back().push_back(static_cast<int32_t>(f % vocab));
      hits.push_back(candidates.back().size() >= max_length ||
                     std::count(stop_ids.begin(), stop_ids.end(), candidates.back().back()) > 0);
    }
    // _get_running_beams_for_next_iteration
    std::vector<float> running_keys(keep);
    for (size_t i = 0; i < keep; ++i) running_keys[i] = scores[flat[i]] + (hits[i] ? -1e9f : 0.0f);
    std::vector<size_t> order(keep);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return running_keys[a] > running_keys[b]; });
    for (size_t j = 0; j < n; ++j) {
      running[j] = candidates[order[j]];
      running_scores[j] = running_keys[order[j]];
    }
    // _update_finished_beams: the slots and the new candidates merged, the best num_beams kept.
    std::vector<std::vector<int32_t>> merged = slots;
    std::vector<float> merged_scores = slot_scores;
    std::vector<bool> merged_finished = slot_finished;
    for (size_t i = 0; i < keep; ++i) {
      const bool just_finished = hits[i] && i < n;
      merged.push_back(candidates[i]);
      merged_scores.push_back(scores[flat[i]] / penalty(cur + 1 - prompt_length) +
                              (just_finished ? 0.0f : -1e9f));
      merged_finished.push_back(just_finished);
    }
    std::vector<size_t> best(merged.size());
    std::iota(best.begin(), best.end(), size_t{0});
    std::stable_sort(best.begin(), best.end(),
                     [&](size_t a, size_t b) { return merged_scores[a] > merged_scores[b]; });
    for (size_t j = 0; j < n; ++j) {
      slots[j] = merged[best[j]];
      slot_scores[j] = merged_scores[best[j]];
      slot_finished[j] = merged_finished[best[j]];
    }
    // _check_early_stop_heuristic and _beam_search_has_unfinished_sequences, with cur_len + 1.
    const size_t length = cur + 1;
    const size_t judged = options.early_stopping == EarlyStopping::never && lp > 0
                              ? max_length - prompt_length
                              : length - prompt_length;
    const float best_possible = running_scores[0] / penalty(judged);
    const float worst = *std::min_element(slot_scores.begin(), slot_scores.end());
    bool improvable = false;
    for (size_t j = 0; j < n; ++j)
      improvable = improvable || best_possible > (slot_finished[j] ? worst : -1e9f);
    unsatisfied = unsatisfied && improvable;
    const bool all_finished =
        std::all_of(slot_finished.begin(), slot_finished.end(), [](bool f) { return f; });
    const bool all_hit = std::all_of(hits.begin(), hits.end(), [](bool h) { return h; });
    if (!unsatisfied || (all_finished && options.early_stopping == EarlyStopping::on) || all_hit) break;
  }
  std::vector<Hypothesis> out;
  for (size_t j = 0; j < static_cast<size_t>(options.num_return_sequences); ++j) {
    if (!slot_finished[j]) break;
    out.push_back(
        {{slots[j].begin() + static_cast<ptrdiff_t>(prompt_length), slots[j].end()}, slot_scores[j]});
  }
  return out;
}

GenerationOptions beam_options(int32_t beams, int32_t returned, int32_t max_new_tokens) {
  GenerationOptions o;
  o.greedy = true;
  o.stop_at_eos = false;
  o.max_new_tokens = max_new_tokens;
  o.num_beams = beams;
  o.num_return_sequences = returned;
  return o;
}

// Two ids that the second-best of four hypotheses takes on its way, as stop ids: other hypotheses
// meet them too, so that they finish at different lengths and the early-stopping modes differ.
std::vector<int32_t> stop_ids_for(const std::shared_ptr<Model>& model, const std::vector<int32_t>& prompt,
                                  int32_t max_new_tokens) {
  const auto result = Generator(model).generate(prompt, beam_options(4, 4, max_new_tokens));
  const auto& ids = result.sequences.at(1).new_ids;
  return {ids.at(3), ids.at(6)};
}

struct Config {
  int32_t beams, returned;
  float length_penalty;
  EarlyStopping early;
};

std::string describe(const Config& c) {
  return std::to_string(c.beams) + " beams, " + std::to_string(c.returned) + " returned, length_penalty " +
         std::to_string(c.length_penalty) + ", early_stopping " + to_string(c.early);
}

void expect_equal(const GenerationResult& result, const std::vector<Hypothesis>& expected,
                  std::span<const int32_t> stop_ids, const std::string& what) {
  ASSERT_NE(result.stop_reason, StopReason::error) << what << ": " << result.error;
  ASSERT_EQ(result.sequences.size(), expected.size()) << what;
  for (size_t j = 0; j < expected.size(); ++j) {
    EXPECT_EQ(result.sequences[j].new_ids, expected[j].new_ids) << what << ", sequence " << j;
    EXPECT_NEAR(result.sequences[j].score, expected[j].score, 1e-4) << what << ", sequence " << j;
    const bool stopped = std::count(stop_ids.begin(), stop_ids.end(), expected[j].new_ids.back()) > 0;
    EXPECT_EQ(result.sequences[j].stop_reason, stopped ? StopReason::stop_token : StopReason::max_tokens)
        << what << ", sequence " << j;
  }
  EXPECT_EQ(result.new_ids, result.sequences[0].new_ids) << what;
  EXPECT_EQ(result.text, result.sequences[0].text) << what;
  EXPECT_EQ(result.stop_reason, result.sequences[0].stop_reason) << what;
}

// 2 and 4 beams, 1 and 3 returned, length_penalty 1 and 0.5, each early-stopping mode: all requests
// in one engine (several beam groups per wave), each checked against the oracle. Returns, per
// config, the hypotheses found.
std::vector<std::vector<std::vector<int32_t>>> expect_reference(const std::filesystem::path& path,
                                                                const std::vector<int32_t>& prompt,
                                                                int32_t max_new_tokens) {
  const auto model = Model::load(path);
  const auto stop_ids = stop_ids_for(model, prompt, max_new_tokens);
  std::vector<Config> configs;
  for (EarlyStopping early : {EarlyStopping::heuristic, EarlyStopping::on, EarlyStopping::never})
    for (float lp : {1.0f, 0.5f})
      for (auto [beams, returned] : {std::pair{2, 1}, {4, 1}, {4, 3}})
        configs.push_back({beams, returned, lp, early});
  Engine engine(model);
  std::vector<GenerationOptions> requests;
  for (const Config& c : configs) {
    GenerationOptions o = beam_options(c.beams, c.returned, max_new_tokens);
    o.stop_token_ids = stop_ids;
    o.length_penalty = c.length_penalty;
    o.early_stopping = c.early;
    requests.push_back(o);
    engine.add_request(prompt, o);
  }
  const auto results = engine.run();
  std::vector<std::vector<std::vector<int32_t>>> found;
  EXPECT_EQ(results.size(), requests.size());
  if (results.size() != requests.size()) return found;
  std::set<StopReason> reasons;
  for (size_t i = 0; i < requests.size(); ++i) {
    const GenerationResult& result = results[i].second;
    expect_equal(result, reference_beam_search(*model, prompt, requests[i], stop_ids), stop_ids,
                 path.filename().string() + ": " + describe(configs[i]));
    found.emplace_back();
    for (const auto& s : result.sequences) {
      found.back().push_back(s.new_ids);
      reasons.insert(s.stop_reason);
    }
  }
  // Hypotheses finished both ways: at a stop id and at the length limit.
  EXPECT_TRUE(reasons.count(StopReason::stop_token) && reasons.count(StopReason::max_tokens)) << path;
  return found;
}

TEST(BeamSearch, MatchesTheReferenceOnTheBundledModel) {
  const auto model = Model::load(test::bundled_model());
  const auto found =
      expect_reference(test::bundled_model(), model->tokenizer()->encode_ids("Once upon a time", true), 14);
  ASSERT_EQ(found.size(), 18u);
  // Configs are ordered early_stopping (heuristic, on, never) x length_penalty (1, 0.5) x 3 beam
  // setups: each mode must change some result, or the modes are not tested.
  bool on_differs = false, never_differs = false;
  for (size_t i = 0; i < 6; ++i) {
    on_differs = on_differs || found[i] != found[6 + i];
    never_differs = never_differs || found[i] != found[12 + i];
  }
  EXPECT_TRUE(on_differs);
  EXPECT_TRUE(never_differs);
}

TEST(BeamSearch, MatchesTheReferenceOnGenAICombinedKv) {
  const auto path = test::shared_models() / "tiny-random-gpt2-fp32";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " is missing";
  expect_reference(path, {98, 17, 301, 5, 44}, 12);
}

TEST(BeamSearch, MatchesTheReferenceOnAGeneratedLayout) {
  expect_reference(test::test_models() / "llama-optimum", {1, 40, 7, 93}, 12);
}

// One config on every layout the loader supports, the GroupQueryAttention graph included: it runs
// one row per pass when rows differ in length, but a beam group's rows never do.
class EveryLayout : public ::testing::TestWithParam<test::LayoutCase> {};

TEST_P(EveryLayout, MatchesTheReference) {
  const auto& c = GetParam();
  if (!std::filesystem::exists(c.path)) GTEST_SKIP() << c.path << " is missing";
  const auto model = Model::load(c.path);
  const std::vector<int32_t> prompt{1, 40, 7, 93, 5};
  const auto stop_ids = stop_ids_for(model, prompt, 10);
  GenerationOptions o = beam_options(3, 2, 10);
  o.stop_token_ids = stop_ids;
  const auto result = Generator(model).generate(prompt, o);
  const auto expected = reference_beam_search(*model, prompt, o, stop_ids);
  if (c.tolerance > 1e-3f) {  // fp16 KV: a full recompute rounds differently; the search must still agree
    ASSERT_EQ(result.sequences.size(), expected.size());
    for (size_t j = 0; j < expected.size(); ++j)
      EXPECT_NEAR(result.sequences[j].score, expected[j].score, 0.05) << c.name;
    return;
  }
  expect_equal(result, expected, stop_ids, c.name);
}

INSTANTIATE_TEST_SUITE_P(Layouts, EveryLayout, ::testing::ValuesIn(test::layout_cases()),
                         [](const auto& info) { return test::case_name(info.param.name); });

class BundledBeams : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = Model::load(test::bundled_model()); }
  static void TearDownTestSuite() { model_.reset(); }
  static std::vector<int32_t> encode(const std::string& text) {
    return model_->tokenizer()->encode_ids(text, true);
  }
  static std::shared_ptr<Model> model_;
};
std::shared_ptr<Model> BundledBeams::model_;

// The processors run on the log-probs, per beam, with the beam's own history; eos ends hypotheses.
TEST_F(BundledBeams, ProcessorsAndEosMatchTheReference) {
  const auto prompt = encode("Lily and Tom");
  GenerationOptions o = beam_options(3, 3, 40);
  o.stop_at_eos = true;
  o.repetition_penalty = 1.3f;
  o.no_repeat_ngram_size = 2;
  o.min_new_tokens = 4;
  o.bad_words_ids = {{13}, {263, 278}};
  o.logit_bias = {{29, 2.0f}, {2, 28.0f}};  // eos (2) made likely: min_new_tokens must hold it back
  const auto result = Generator(model_).generate(prompt, o);
  const auto& eos = model_->config().eos_token_ids;
  const std::vector<int32_t> stop_ids(eos.begin(), eos.end());
  const auto expected = reference_beam_search(*model_, prompt, o, stop_ids);
  ASSERT_EQ(result.sequences.size(), expected.size());
  for (size_t j = 0; j < expected.size(); ++j) {
    EXPECT_EQ(result.sequences[j].new_ids, expected[j].new_ids) << j;
    EXPECT_NEAR(result.sequences[j].score, expected[j].score, 1e-4) << j;
    const bool eos_end = std::count(stop_ids.begin(), stop_ids.end(), expected[j].new_ids.back()) > 0;
    EXPECT_EQ(result.sequences[j].stop_reason, eos_end ? StopReason::eos : StopReason::max_tokens) << j;
    EXPECT_GE(result.sequences[j].new_ids.size(), 4u) << j;
  }
  EXPECT_EQ(result.stop_reason, StopReason::eos);
}

// Beam groups and plain sequences share waves (and, with 6 rows per pass, split across waves): each
// request's result equals that request run alone.
TEST_F(BundledBeams, BeamAndPlainRequestsInOneEngineEqualThemAlone) {
  std::vector<std::pair<std::vector<int32_t>, GenerationOptions>> requests;
  GenerationOptions four = beam_options(4, 2, 20), plain = beam_options(1, 1, 25),
                    three = beam_options(3, 3, 16);
  four.length_penalty = 0.7f;
  three.early_stopping = EarlyStopping::never;
  three.stop_at_eos = true;
  GenerationOptions sampled = plain;
  sampled.greedy = false;
  sampled.seed = 11;
  sampled.top_p = 0.9f;
  requests = {{encode("Once upon a time"), four},
              {encode("The dog"), plain},
              {encode("One day, a little girl named Lily"), three},
              {encode("The sun"), sampled}};
  for (int32_t rows : {16, 6}) {
    Engine engine(model_, {.max_batch_rows = rows, .prefill_chunk = 3});
    for (const auto& [prompt, options] : requests) engine.add_request(prompt, options);
    const auto together = engine.run();
    ASSERT_EQ(together.size(), requests.size());
    for (size_t i = 0; i < requests.size(); ++i) {
      Engine alone_engine(model_);
      alone_engine.add_request(requests[i].first, requests[i].second);
      const auto alone = alone_engine.run().at(0).second;
      const auto& got = together[i].second;
      ASSERT_EQ(got.sequences.size(), alone.sequences.size()) << rows << " rows, request " << i;
      for (size_t j = 0; j < alone.sequences.size(); ++j) {
        EXPECT_EQ(got.sequences[j].new_ids, alone.sequences[j].new_ids) << rows << " rows, request " << i;
        EXPECT_NEAR(got.sequences[j].score, alone.sequences[j].score, 1e-5) << rows << " rows, request " << i;
        EXPECT_EQ(got.sequences[j].text, alone.sequences[j].text) << rows << " rows, request " << i;
      }
    }
  }
}

TEST_F(BundledBeams, OneBeamIsGreedy) {
  const auto prompt = encode("Once upon a time");
  GenerationOptions greedy = beam_options(1, 1, 30);
  greedy.stop_at_eos = true;
  const auto result = Generator(model_).generate(prompt, greedy);
  GenerationOptions plain;
  plain.greedy = true;
  plain.max_new_tokens = 30;
  EXPECT_EQ(result.new_ids, Generator(model_).generate(prompt, plain).new_ids);
  ASSERT_EQ(result.sequences.size(), 1u);
  EXPECT_EQ(result.sequences[0].new_ids, result.new_ids);
  EXPECT_EQ(result.sequences[0].text, result.text);
  EXPECT_EQ(result.sequences[0].score, 0.0f);
}

TEST_F(BundledBeams, BadOptionsAreRefusedWithTheirRange) {
  const auto error = [](auto set) {
    GenerationOptions o = beam_options(4, 1, 10);
    set(o);
    return test::error_message([&] { validate(o); });
  };
  EXPECT_EQ(error([](GenerationOptions& o) { o.num_beams = 0; }),
            "num_beams must be in [1, 32] (1 = no beam search), not 0");
  EXPECT_EQ(error([](GenerationOptions& o) { o.num_beams = 33; }),
            "num_beams must be in [1, 32] (1 = no beam search), not 33");
  EXPECT_EQ(error([](GenerationOptions& o) { o.num_return_sequences = 5; }),
            "num_return_sequences must be in [1, num_beams = 4], not 5");
  EXPECT_EQ(error([](GenerationOptions& o) { o.num_return_sequences = 0; }),
            "num_return_sequences must be in [1, num_beams = 4], not 0");
  EXPECT_EQ(error([](GenerationOptions& o) { o.length_penalty = NAN; }),
            "length_penalty must be finite, not nan");
  EXPECT_EQ(error([](GenerationOptions& o) { o.early_stopping = static_cast<EarlyStopping>(7); }),
            "early_stopping must be heuristic, on or never, not 7");
  EXPECT_EQ(error([](GenerationOptions& o) { o.max_length = -1; }),
            "max_length must be >= 0 (0 = unset; else more than the prompt's length), not -1");
  EXPECT_EQ(error([](GenerationOptions& o) {
              o.greedy = false;
              o.top_k = 5;
            }),
            "num_beams 4 runs beam search, which does not sample: top_k 5 conflicts with it (set greedy, or "
            "leave the sampling options at their defaults)");
  EXPECT_NE(error([](GenerationOptions& o) {
              o.greedy = false;
              o.temperature = 0.7f;
            }).find("temperature 0.7 conflicts"),
            std::string::npos);
  EXPECT_NE(
      error([](GenerationOptions& o) { o.stop_strings = {"x"}; }).find("stop_strings are not supported"),
      std::string::npos);
  // Library defaults (sampling at temperature 1, no warper) and a greedy flag with warpers set are fine.
  EXPECT_EQ(error([](GenerationOptions& o) { o.greedy = false; }), "(no error)");
  EXPECT_EQ(error([](GenerationOptions& o) { o.temperature = 0.5f; }), "(no error)");

  // max_length not above the prompt is an error of that request; the others go on.
  Engine engine(model_);
  const auto prompt = encode("Once upon a time");
  GenerationOptions too_short = beam_options(1, 1, 10);
  too_short.max_length = static_cast<int32_t>(prompt.size());
  EXPECT_EQ(test::error_message([&] { engine.add_request(prompt, too_short); }),
            "max_length " + std::to_string(prompt.size()) + " must be more than the prompt's " +
                std::to_string(prompt.size()) + " tokens (it counts the prompt)");
  GenerationOptions bad_beams = beam_options(4, 1, 10);
  bad_beams.num_beams = 40;
  EXPECT_NE(test::error_message([&] { engine.add_request(prompt, bad_beams); }).find("num_beams"),
            std::string::npos);
  engine.add_request(prompt, beam_options(2, 2, 5));
  const auto results = engine.run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0].second.sequences.size(), 2u);
}

// max_length counts the prompt and bounds every decoding mode; the tighter of it and max_new_tokens wins.
TEST_F(BundledBeams, MaxLengthBoundsEveryMode) {
  const auto prompt = encode("Once upon a time");
  const auto length = static_cast<int32_t>(prompt.size());
  Generator generator(model_);
  GenerationOptions greedy = beam_options(1, 1, 100);
  greedy.max_length = length + 7;
  const auto by_length = generator.generate(prompt, greedy);
  EXPECT_EQ(by_length.new_ids.size(), 7u);
  EXPECT_EQ(by_length.stop_reason, StopReason::max_tokens);
  greedy.max_new_tokens = 4;
  EXPECT_EQ(generator.generate(prompt, greedy).new_ids.size(), 4u);
  greedy.max_new_tokens = 100;
  greedy.max_length = length + 1;
  EXPECT_EQ(generator.generate(prompt, greedy).new_ids.size(), 1u);

  GenerationOptions sampled = beam_options(1, 1, 40);
  sampled.greedy = false;
  sampled.seed = 5;
  const auto long_run = generator.generate(prompt, sampled);
  sampled.max_length = length + 9;
  const auto cut = generator.generate(prompt, sampled);
  ASSERT_EQ(cut.new_ids.size(), 9u);
  EXPECT_TRUE(std::equal(cut.new_ids.begin(), cut.new_ids.end(), long_run.new_ids.begin()));

  GenerationOptions beams = beam_options(3, 2, 100);
  beams.max_length = length + 6;
  GenerationOptions same = beam_options(3, 2, 6);
  const auto a = generator.generate(prompt, beams), b = generator.generate(prompt, same);
  ASSERT_EQ(a.sequences.size(), b.sequences.size());
  for (size_t j = 0; j < a.sequences.size(); ++j) {
    EXPECT_EQ(a.sequences[j].new_ids, b.sequences[j].new_ids);
    EXPECT_LE(a.sequences[j].new_ids.size(), 6u);
  }
}

// Beam search streams nothing while it searches, then the best sequence in the step that ends it;
// the pieces add up to the text.
TEST_F(BundledBeams, StreamsTheBestSequenceAtTheEnd) {
  Engine engine(model_);
  std::string streamed;
  std::vector<int32_t> ids;
  std::set<int> steps_streaming;
  int step = 0, finished_at = -1;
  GenerationOptions o = beam_options(4, 2, 30);
  o.stop_at_eos = true;
  engine.add_request("Once upon a time", o, [&](int32_t token, std::string_view text) {
    steps_streaming.insert(step);
    if (token >= 0) ids.push_back(token);
    streamed += text;
    return true;
  });
  for (bool more = true; more;) {
    ++step;
    more = engine.step();
    for (auto& [request, result] : engine.take_finished()) {
      finished_at = step;
      EXPECT_EQ(result.new_ids, ids);
      EXPECT_EQ(result.text, streamed);
      EXPECT_FALSE(result.text.empty());
      ASSERT_EQ(result.sequences.size(), 2u);
      EXPECT_NE(result.sequences[1].text, result.text);
    }
  }
  EXPECT_GT(finished_at, 2);
  EXPECT_EQ(steps_streaming, std::set<int>{finished_at});
}

// A beam request aborted from another request's callback ends cancelled with no hypotheses; the
// plain request next to it is unaffected.
TEST_F(BundledBeams, AbortEndsABeamSearch) {
  Engine engine(model_);
  RequestId beams = 0;
  int tokens = 0;
  const RequestId plain =
      engine.add_request("The dog", beam_options(1, 1, 20), [&](int32_t, std::string_view) {
        if (++tokens == 3) engine.abort(beams);
        return true;
      });
  beams = engine.add_request("Once upon a time", beam_options(4, 3, 50));
  for (const auto& [request, result] : engine.run()) {
    if (request == plain) {
      EXPECT_EQ(result.new_ids.size(), 20u);
    } else {
      EXPECT_EQ(result.stop_reason, StopReason::cancelled);
      EXPECT_TRUE(result.new_ids.empty());
      ASSERT_EQ(result.sequences.size(), 1u);
      EXPECT_EQ(result.sequences[0].stop_reason, StopReason::cancelled);
    }
  }
}

// The context bounds hypotheses too: they end with context_full, like a plain sequence.
TEST_F(BundledBeams, HypothesesStopAtTheContext) {
  const int32_t context = model_->config().context_length;
  const std::vector<int32_t> nearly_full(static_cast<size_t>(context - 3), 1);
  const auto result = Generator(model_).generate(nearly_full, beam_options(2, 2, 100));
  ASSERT_EQ(result.sequences.size(), 2u);
  for (const auto& s : result.sequences) {
    EXPECT_EQ(s.new_ids.size(), 4u);  // the last one is not fed
    EXPECT_EQ(s.stop_reason, StopReason::context_full);
  }
}

}  // namespace
}  // namespace ortlm
