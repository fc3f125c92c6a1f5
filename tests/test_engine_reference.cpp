// Greedy generation from the bundled model must reproduce llama2.c's reference ids token for token.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm {
namespace {

class BundledModel : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { model_ = Model::load(test::bundled_model()); }
  static void TearDownTestSuite() { model_.reset(); }
  static std::shared_ptr<Model> model_;
};
std::shared_ptr<Model> BundledModel::model_;

nlohmann::json references() {
  // The repo's copy of ../shared/models/stories260k/reference.json.
  return util::read_json_file(test::bundled_model() / "reference.json")["references"];
}

TEST_F(BundledModel, GreedyReproducesReferenceIdsFromIds) {
  Generator generator(model_);
  for (const auto& ref : references()) {
    const auto prompt_ids = ref["prompt_ids"].get<std::vector<int32_t>>();
    const auto expected = ref["greedy_new_ids"].get<std::vector<int32_t>>();
    GenerationOptions options;
    options.greedy = true;
    options.max_new_tokens = static_cast<int32_t>(expected.size());
    const auto result = generator.generate(prompt_ids, options);
    EXPECT_EQ(result.new_ids, expected) << "prompt: " << ref["prompt"];
  }
}

TEST_F(BundledModel, GreedyFromTextMatchesReferenceIdsAndText) {
  Generator generator(model_);
  for (const auto& ref : references()) {
    const auto prompt = ref["prompt"].get<std::string>();
    const auto expected = ref["greedy_new_ids"].get<std::vector<int32_t>>();
    GenerationOptions options;
    options.greedy = true;
    options.max_new_tokens = static_cast<int32_t>(expected.size());
    std::string streamed;
    const auto result = generator.generate(prompt, options, [&](int32_t, std::string_view text) {
      streamed += text;
      return true;
    });
    EXPECT_EQ(result.prompt_ids, ref["prompt_ids"].get<std::vector<int32_t>>()) << prompt;
    EXPECT_EQ(result.new_ids, expected) << prompt;
    EXPECT_EQ(streamed, result.text);
    // The reference text is the whole decoded sequence; ours is the continuation after the prompt.
    const auto full = ref["text"].get<std::string>();
    EXPECT_TRUE(full.starts_with(prompt));
    EXPECT_EQ(prompt + result.text, full.substr(0, prompt.size() + result.text.size())) << prompt;
  }
}

TEST_F(BundledModel, StopsAtEosAndReportsIt) {
  // The model's README: greedy from this prompt ends with <s> (id 1, an eos id in
  // generation_config.json) as its 240th new token, as llama2.c's run.c does.
  Generator generator(model_);
  GenerationOptions options;
  options.greedy = true;
  options.max_new_tokens = 400;
  const auto result = generator.generate("The dog was very hungry, so he", options);
  EXPECT_EQ(result.stop_reason, StopReason::eos);
  ASSERT_FALSE(result.new_ids.empty());
  EXPECT_EQ(result.new_ids.back(), 1);
  EXPECT_EQ(result.new_ids.size(), 240u);
  options.stop_at_eos = false;
  options.max_new_tokens = static_cast<int32_t>(result.new_ids.size()) + 5;
  EXPECT_EQ(generator.generate("The dog was very hungry, so he", options).stop_reason,
            StopReason::max_tokens);
}

TEST_F(BundledModel, EmptyPromptStartsFromBos) {
  Generator generator(model_);
  GenerationOptions options;
  options.greedy = true;
  options.max_new_tokens = 5;
  const auto from_empty = generator.generate(std::span<const int32_t>(), options);
  const std::vector<int32_t> bos{1};
  const auto from_bos = generator.generate(bos, options);
  EXPECT_EQ(from_empty.prompt_ids, bos);
  EXPECT_EQ(from_empty.new_ids, from_bos.new_ids);
}

TEST_F(BundledModel, SeededSamplingIsReproducibleAndSeedsDiffer) {
  Generator generator(model_);
  GenerationOptions options;
  options.temperature = 1.0f;
  options.top_k = 40;
  options.top_p = 0.95f;
  options.max_new_tokens = 40;
  options.seed = 7;
  const auto a = generator.generate("Once upon a time", options);
  const auto b = generator.generate("Once upon a time", options);
  options.seed = 8;
  const auto c = generator.generate("Once upon a time", options);
  EXPECT_EQ(a.new_ids, b.new_ids);
  EXPECT_NE(a.new_ids, c.new_ids);
}

TEST_F(BundledModel, StopStringCutsTheText) {
  Generator generator(model_);
  GenerationOptions options;
  options.greedy = true;
  options.max_new_tokens = 100;
  options.stop_strings = {"Lily"};
  std::string streamed;
  const auto result = generator.generate("Once upon a time", options, [&](int32_t, std::string_view t) {
    streamed += t;
    return true;
  });
  EXPECT_EQ(result.stop_reason, StopReason::stop_string);
  EXPECT_EQ(result.text, ", there was a little girl named ");
  EXPECT_EQ(streamed, result.text);
}

TEST_F(BundledModel, RejectsBadInput) {
  Generator generator(model_);
  GenerationOptions options;
  options.greedy = true;
  const std::vector<int32_t> outside{1, 512};
  EXPECT_THROW(generator.generate(outside, options), Error);
  const std::vector<int32_t> too_long(513, 300);
  try {
    generator.generate(too_long, options);
    FAIL() << "a prompt longer than the context must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context length 512"), std::string::npos) << e.what();
  }
}

TEST_F(BundledModel, ContextFullEndsGeneration) {
  Generator generator(model_);
  GenerationOptions options;
  options.greedy = true;
  options.stop_at_eos = false;
  options.max_new_tokens = 1000;
  const std::vector<int32_t> prompt(500, 300);
  const auto result = generator.generate(prompt, options);
  EXPECT_EQ(result.stop_reason, StopReason::context_full);
  EXPECT_EQ(result.prompt_ids.size() + result.new_ids.size(), 513u);  // the last token needs no forward pass
}

}  // namespace
}  // namespace ortlm
