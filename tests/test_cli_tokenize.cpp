// `ortlm tokenize` end to end, against the bundled model's reference ids.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm {
namespace {

// `stdin_text` is a printf format: \n in it becomes a newline.
std::string tokenize(const std::string& args, const std::string& stdin_text) {
  const auto r = test::run_command("printf '" + stdin_text + "' | " + std::string(ORTLM_CLI) + " tokenize '" +
                                   test::bundled_model().string() + "' " + args);
  EXPECT_EQ(r.exit_code, 0) << args << "\n" << r.output;
  return r.output;
}

TEST(CliTokenize, IdsMatchTheReference) {
  const auto refs = util::read_json_file(test::bundled_model() / "reference.json")["references"];
  for (const auto& ref : refs) {
    const auto prompt = ref["prompt"].get<std::string>();
    if (prompt.find_first_of("'%\\") != std::string::npos) continue;  // keeps the shell quoting simple
    std::string expected;
    for (const auto& id : ref["prompt_ids"])
      expected += (expected.empty() ? "" : " ") + std::to_string(id.get<int>());
    EXPECT_EQ(tokenize("--special", prompt), expected + "\n") << prompt;
    // Without --special the post-processor's BOS is not added.
    EXPECT_EQ(tokenize("", prompt), (expected.size() > 2 ? expected.substr(2) : "") + "\n") << prompt;
  }
}

TEST(CliTokenize, DecodeGivesTheReferenceText) {
  const auto refs = util::read_json_file(test::bundled_model() / "reference.json")["references"];
  const auto& ref = refs[0];
  std::string ids;
  for (const auto& id : ref["prompt_ids"]) ids += std::to_string(id.get<int>()) + ",";
  for (const auto& id : ref["greedy_new_ids"]) ids += std::to_string(id.get<int>()) + " ";
  const auto text = tokenize("--decode --skip-special", ids);
  // reference.json's text is llama2.c's printout of the same ids.
  EXPECT_EQ(text, ref["text"].get<std::string>().substr(0, text.size() - 1) + "\n");
}

TEST(CliTokenize, JsonLinesRoundTrip) {
  const auto out = tokenize("--jsonl --special", "\"Once upon a time\"\\n\"Lily and Tom\"\\n");
  std::istringstream lines(out);
  std::string line;
  std::vector<nlohmann::json> records;
  while (std::getline(lines, line)) records.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(records.size(), 2u) << out;
  EXPECT_EQ(records[0]["ids"], nlohmann::json::parse("[1, 403, 407, 261, 378]"));
  EXPECT_EQ(records[1]["ids"], nlohmann::json::parse("[1, 317, 269, 274, 287]"));
  // decoded keeps special tokens (the <s> of the post-processor).
  EXPECT_EQ(records[0]["decoded"], "<s> Once upon a time");
}

TEST(CliTokenize, BadInputFails) {
  auto r = test::run_command("printf '\"ok\"\\n{bad' | " + std::string(ORTLM_CLI) + " tokenize '" +
                             test::bundled_model().string() + "' --jsonl");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("line 2"), std::string::npos) << r.output;
  // A number beyond a double is an ortlm error naming the line, like any other malformed JSON.
  r = test::run_command("printf '1e999\\n' | " + std::string(ORTLM_CLI) + " tokenize '" +
                        test::bundled_model().string() + "' --jsonl");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("stdin line 1: invalid JSON"), std::string::npos) << r.output;
  r = test::run_command("printf '1 2 x' | " + std::string(ORTLM_CLI) + " tokenize '" +
                        test::bundled_model().string() + "' --decode");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("'x' is not a token id"), std::string::npos) << r.output;
  r = test::run_command(std::string(ORTLM_CLI) + " tokenize /no/such/tokenizer.json -p hi");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("/no/such/tokenizer.json"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ortlm
