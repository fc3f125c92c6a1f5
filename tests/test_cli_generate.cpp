// The `ortlm` binary end to end: generate, info, verify, and clear errors with a non-zero exit.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm {
namespace {
namespace fs = std::filesystem;

std::string cli() { return std::string(ORTLM_CLI); }
std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

TEST(CliGenerate, JsonMatchesReferenceIds) {
  const auto refs = util::read_json_file(test::bundled_model() / "reference.json")["references"];
  const auto& ref = refs[0];
  std::string ids;
  for (const auto& id : ref["prompt_ids"]) ids += (ids.empty() ? "" : ",") + std::to_string(id.get<int>());
  const auto r =
      test::run_command(cli() + " generate " + quoted(test::bundled_model()) + " --ids " + ids + " -n " +
                        std::to_string(ref["greedy_new_ids"].size()) + " --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto out = nlohmann::json::parse(r.output);
  EXPECT_EQ(out["new_ids"], ref["greedy_new_ids"]);
  EXPECT_EQ(out["prompt_ids"], ref["prompt_ids"]);
  EXPECT_EQ(out["stop_reason"], "max_tokens");
  EXPECT_GT(out["tokens_per_second"].get<double>(), 0);
}

TEST(CliGenerate, DefaultModelStreamsText) {
  const auto r = test::run_command("cd " + quoted(test::source_dir()) + " && " + cli() +
                                   " generate -p 'Once upon a time' -n 12 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("Once upon a time, there was a little girl named Lily", 0), 0u) << r.output;
}

TEST(CliGenerate, GenAiGpt2FromIds) {
  const fs::path model = test::shared_models() / "tiny-random-gpt2-fp32";
  if (!fs::exists(model)) GTEST_SKIP();
  const auto r = test::run_command(cli() + " generate " + quoted(model) +
                                   " --ids 98,10,20,30 -n 10 --ignore-eos --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto out = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  EXPECT_EQ(out["new_ids"].size(), 10u);
  for (const auto& id : out["new_ids"]) EXPECT_LT(id.get<int>(), 1000);
  const auto info = test::run_command(cli() + " info " + quoted(model));
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find("combined KV"), std::string::npos) << info.output;
  EXPECT_NE(info.output.find("batch_size"), std::string::npos) << info.output;
}

TEST(CliGenerate, BadInputsFailWithAMessage) {
  struct Case {
    std::string args, needle;
  };
  const std::string model = quoted(test::bundled_model());
  std::string long_ids = "1";
  for (int i = 0; i < 600; ++i) long_ids += ",300";
  for (const Case& c :
       {Case{"generate /no/such/model -p hi", "/no/such/model: no such file or folder"},
        Case{"generate " + model + " --ids 1,999999", "outside the model's vocabulary"},
        Case{"generate " + model + " --ids 1,abc", "'abc' is not a token id"},
        Case{"generate " + model + " --ids " + long_ids, "more than the model's context length"},
        Case{"generate " + model, "give a prompt"},
        Case{"info " + quoted(test::source_dir() / "README.md"), "expected a model folder or an .onnx"}}) {
    const auto r = test::run_command(cli() + " " + c.args);
    EXPECT_NE(r.exit_code, 0) << c.args;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
  }
}

TEST(CliGenerate, ProcessorFlagsOutOfRangeAreUsageErrors) {
  struct Case {
    std::string args, needle;
  };
  const std::string generate = cli() + " generate " + quoted(test::bundled_model()) + " -p Once -n 2 ";
  for (const Case& c : {
           Case{"--typical-p 0", "typical_p must be in (0, 1] (1 = off), not 0"},
           Case{"--typical-p 1.5", "typical_p must be in (0, 1]"},
           Case{"--presence-penalty 3", "presence_penalty must be in [-2, 2] (0 = off), not 3"},
           Case{"--frequency-penalty -2.5", "frequency_penalty must be in [-2, 2] (0 = off), not -2.5"},
           Case{"--no-repeat-ngram -1", "no_repeat_ngram_size must be >= 0 (0 = off), not -1"},
           Case{"--min-new-tokens -1", "min_new_tokens must be >= 0, not -1"},
           Case{"--bad-words ''", "bad_words_ids entry 1 is empty"},
           Case{"--bad-words 1 --bad-words 1,x", "--bad-words: 'x' is not a token id"},
           Case{"--logit-bias 5", "--logit-bias: expected ID=BIAS"},
           Case{"--logit-bias 5=abc", "--logit-bias: expected ID=BIAS"},
           Case{"--logit-bias =1", "--logit-bias: expected ID=BIAS"},
           Case{"--logit-bias x=1", "--logit-bias: 'x' is not a token id"},
           Case{"--logit-bias 5=200", "logit_bias for token id 5 must be in [-100, 100], not 200"},
           Case{"--logit-bias 5=nan", "logit_bias for token id 5 must be in [-100, 100], not nan"},
           Case{"--logit-bias 5=1 --logit-bias 5=-1", "logit_bias gives token id 5 more than once"},
       }) {
    const auto r = test::run_command(generate + c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.args << "\n" << r.output;
  }
  const auto chat = test::run_command("echo Hi | " + cli() + " chat " + quoted(test::bundled_model()) +
                                      " --presence-penalty -3");
  EXPECT_EQ(chat.exit_code, 2) << chat.output;
  EXPECT_NE(chat.output.find("presence_penalty must be in [-2, 2]"), std::string::npos) << chat.output;
  // Ids are checked against the vocabulary once the model is loaded: a failure, not a usage error.
  for (const char* args : {"--bad-words 1,512", "--logit-bias 600=1"}) {
    const auto r = test::run_command(generate + args);
    EXPECT_EQ(r.exit_code, 1) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("outside the model's vocabulary [0, 512)"), std::string::npos) << r.output;
  }
}

TEST(CliGenerate, ProcessorFlagsApplyAndOnlyTypicalPSamples) {
  const std::string generate = cli() + " generate " + quoted(test::bundled_model()) + " --ids 1,403,407 ";
  const auto r = test::run_command(generate +
                                   "-n 30 --bad-words 261 --bad-words 298,315 --logit-bias 432=-5 "
                                   "--no-repeat-ngram 2 --min-new-tokens 3 --presence-penalty 0.5 "
                                   "--frequency-penalty 0.5 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto new_ids = nlohmann::json::parse(r.output)["new_ids"].get<std::vector<int>>();
  EXPECT_EQ(new_ids.size(), 30u);
  EXPECT_EQ(std::count(new_ids.begin(), new_ids.end(), 261), 0);
  // The processors alone leave generation greedy; --typical-p samples.
  const auto greedy = test::run_command(generate +
                                        "-n 3 --no-repeat-ngram 2 --min-new-tokens 1 --bad-words 5 "
                                        "--logit-bias 5=1 --presence-penalty 1 --frequency-penalty 1");
  EXPECT_NE(greedy.output.find("greedy |"), std::string::npos) << greedy.output;
  const auto sampled = test::run_command(generate + "-n 3 --typical-p 0.9");
  EXPECT_NE(sampled.output.find(", seed "), std::string::npos) << sampled.output;
  // One value per --bad-words / --logit-bias: the model after them stays the positional argument.
  const auto positional = test::run_command(cli() + " generate --bad-words 5 --logit-bias 6=1 " +
                                            quoted(test::bundled_model()) + " -p Once -n 2");
  EXPECT_EQ(positional.exit_code, 0) << positional.output;
}

TEST(CliVerify, WriteCheckAndDetectTampering) {
  const fs::path dir = fs::temp_directory_path() / ("ortlm-verify-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(test::bundled_model(), dir, fs::copy_options::recursive);
  auto r = test::run_command(cli() + " verify " + quoted(dir) + " --write-manifest");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  // The manifest is in sha256sum format: the system tool must agree.
  r = test::run_command("cd " + quoted(dir) + " && sha256sum -c --quiet SHA256SUMS");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  r = test::run_command(cli() + " verify " + quoted(dir));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("OK: 8 files"), std::string::npos) << r.output;
  { std::ofstream(dir / "config.json", std::ios::app) << " "; }
  r = test::run_command(cli() + " verify " + quoted(dir));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("config.json: SHA-256 mismatch"), std::string::npos) << r.output;
  fs::remove(dir / "tokenizer.json");
  r = test::run_command(cli() + " verify " + quoted(dir));
  EXPECT_NE(r.output.find("tokenizer.json: missing"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ortlm
