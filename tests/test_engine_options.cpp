// GenerationOptions ranges (the library refuses what the CLI refuses), the sampler's guard against
// non-finite logits, and seeds: given ones reproduce, missing ones are drawn and reported.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/sampler.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

constexpr float kNan = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string validation_error(const GenerationOptions& options, int32_t vocab = 0) {
  return test::error_message([&] { validate(options, vocab); });
}

TEST(GenerationOptions, DefaultsAndEdgesAreValid) {
  GenerationOptions options;
  EXPECT_EQ(validation_error(options), "(no error)");
  options.temperature = 0.0f;  // greedy
  options.top_p = 1.0f;
  options.min_p = 1.0f;
  options.max_new_tokens = 0;
  options.repetition_penalty = 100.0f;
  options.stop_token_ids = {0, 511};
  EXPECT_EQ(validation_error(options, 512), "(no error)");
}

TEST(GenerationOptions, OutOfRangeValuesNameTheFieldAndRange) {
  struct Case {
    void (*set)(GenerationOptions&);
    const char* message;
  };
  const Case cases[] = {
      {[](GenerationOptions& o) { o.temperature = kNan; },
       "temperature must be 0 (greedy) or in [0.001, 1000], not nan"},
      {[](GenerationOptions& o) { o.temperature = -1.0f; },
       "temperature must be 0 (greedy) or in [0.001, 1000], not -1"},
      {[](GenerationOptions& o) { o.temperature = kInf; },
       "temperature must be 0 (greedy) or in [0.001, 1000], not inf"},
      {[](GenerationOptions& o) { o.temperature = 1e-30f; },
       "temperature must be 0 (greedy) or in [0.001, 1000], not 1e-30"},
      {[](GenerationOptions& o) { o.top_p = kNan; }, "top_p must be in (0, 1] (1 = off), not nan"},
      {[](GenerationOptions& o) { o.top_p = 0.0f; }, "top_p must be in (0, 1] (1 = off), not 0"},
      {[](GenerationOptions& o) { o.min_p = kNan; }, "min_p must be in [0, 1] (0 = off), not nan"},
      {[](GenerationOptions& o) { o.min_p = 1.5f; }, "min_p must be in [0, 1] (0 = off), not 1.5"},
      {[](GenerationOptions& o) { o.top_k = -1; }, "top_k must be >= 0 (0 = off), not -1"},
      {[](GenerationOptions& o) { o.repetition_penalty = kNan; },
       "repetition_penalty must be in [0.01, 100] (1 = off), not nan"},
      {[](GenerationOptions& o) { o.repetition_penalty = kInf; },
       "repetition_penalty must be in [0.01, 100] (1 = off), not inf"},
      {[](GenerationOptions& o) { o.max_new_tokens = -1; }, "max_new_tokens must be >= 0, not -1"},
      {[](GenerationOptions& o) {
         o.stop_strings = {"ok", ""};
       },
       "a stop string must not be empty"},
      {[](GenerationOptions& o) { o.stop_token_ids = {-1}; }, "stop token id -1 must be >= 0"},
  };
  for (const auto& c : cases) {
    GenerationOptions options;
    c.set(options);
    EXPECT_EQ(validation_error(options), c.message);
  }
  GenerationOptions options;
  options.stop_token_ids = {512};
  EXPECT_EQ(validation_error(options, 512), "stop token id 512 is outside the model's vocabulary [0, 512)");
}

TEST(Sampler, RefusesInvalidOptions) {
  GenerationOptions options;
  options.top_p = kNan;
  EXPECT_THROW(engine::Sampler(options, 8, 0, {}), Error);
}

TEST(Sampler, NonFiniteLogitsAreAnErrorNotAToken) {
  for (bool greedy : {true, false}) {
    GenerationOptions options;
    options.greedy = greedy;
    engine::Sampler sampler(options, 4, 1, {});
    std::vector<int32_t> history{1, 2};
    for (float bad : {kNan, kInf}) {
      std::vector<float> logits{0.5f, 1.0f, bad, -2.0f};
      try {
        sampler.next(logits, history, history.size());
        ADD_FAILURE() << "no error for " << bad;
      } catch (const Error& e) {
        EXPECT_NE(std::string(e.what()).find("non-finite logit"), std::string::npos) << e.what();
        EXPECT_NE(std::string(e.what()).find("token id 2 after 2 tokens"), std::string::npos) << e.what();
      }
    }
    std::vector<float> masked{0.5f, -kInf, 3.0f, -2.0f};  // -inf is a masked token, not an error
    GenerationOptions greedy_options;
    greedy_options.greedy = true;
    EXPECT_EQ(engine::Sampler(greedy_options, 4, 1, {}).next(masked, history, history.size()), 2);
  }
}

TEST(Generator, MissingSeedIsDrawnAndReportedGivenSeedReproduces) {
  const auto model = Model::load(test::bundled_model());
  Generator generator(model);
  GenerationOptions options;
  options.temperature = 1.0f;
  options.max_new_tokens = 24;
  const auto a = generator.generate("Once upon a time", options);
  const auto b = generator.generate("Once upon a time", options);
  EXPECT_NE(a.seed, b.seed);
  EXPECT_NE(a.new_ids, b.new_ids);
  options.seed = a.seed;
  EXPECT_EQ(generator.generate("Once upon a time", options).new_ids, a.new_ids);
  options.temperature = kNan;
  EXPECT_THROW(generator.generate("Once upon a time", options), Error);
}

}  // namespace
}  // namespace ortlm
