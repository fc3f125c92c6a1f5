// `ortlm generate` with several prompts (-p repeated, --ids repeated, --prompts FILE): one batch,
// results in the order given, each equal to that prompt run alone; a bad prompt fails alone.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "json_lines.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {
namespace fs = std::filesystem;

std::string cli() { return std::string(ORTLM_CLI) + " generate '" + test::bundled_model().string() + "' "; }

nlohmann::json alone(const std::string& flags) {
  const auto r = test::run_command(cli() + flags + " --json 2>/dev/null");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  return nlohmann::json::parse(r.output);
}

fs::path write_file(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("ortlm-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(CliBatch, SeveralPromptsGiveTheirAloneResultsInOrder) {
  const auto r = test::run_command(cli() +
                                   "-p 'Once upon a time' -p 'The dog' --ids 1,403,407 -n 15 --json "
                                   "--batch-size 2 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = test::json_lines(r.output);
  ASSERT_EQ(lines.size(), 3u) << r.output;
  const std::string flags[] = {"-p 'Once upon a time'", "-p 'The dog'", "--ids 1,403,407"};
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["prompt_index"], i);
    const auto expected = alone(flags[i] + " -n 15");
    EXPECT_EQ(lines[i]["new_ids"], expected["new_ids"]) << flags[i];
    EXPECT_EQ(lines[i]["text"], expected["text"]) << flags[i];
  }
}

TEST(CliBatch, PromptsFileWithPerPromptSettings) {
  const fs::path file =
      write_file("prompts.jsonl",
                 "{\"prompt\": \"Once upon a time\", \"max_new_tokens\": 6}\n"
                 "\n"
                 "{\"ids\": [1, 403], \"temperature\": 0.8, \"seed\": 3, \"max_new_tokens\": 9}\n"
                 "{\"prompt\": \"The cat\", \"stop\": \"park\"}\n");
  const auto r = test::run_command(cli() + "--prompts '" + file.string() + "' -n 30 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = test::json_lines(r.output);
  ASSERT_EQ(lines.size(), 3u) << r.output;
  EXPECT_EQ(lines[0]["new_ids"], alone("-p 'Once upon a time' -n 6")["new_ids"]);
  EXPECT_EQ(lines[1]["new_ids"], alone("--ids 1,403 --temperature 0.8 --seed 3 -n 9")["new_ids"]);
  EXPECT_EQ(lines[2]["text"], alone("-p 'The cat' --stop park -n 30")["text"]);
  EXPECT_EQ(lines[2]["stop_reason"], "stop_string");
  fs::remove(file);
}

TEST(CliBatch, PlainPromptsFileAndTextOutput) {
  const fs::path file = write_file("prompts.txt", "Once upon a time\r\nThe dog\n");
  const auto r = test::run_command(cli() + "--prompts '" + file.string() + "' -n 8 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto first = alone("-p 'Once upon a time' -n 8")["text"].get<std::string>();
  const auto second = alone("-p 'The dog' -n 8")["text"].get<std::string>();
  EXPECT_NE(r.output.find("Once upon a time" + first + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("The dog" + second + "\n"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("[batch of 2 prompts"), std::string::npos) << r.output;
  fs::remove(file);
}

TEST(CliBatch, PromptOverTheContextFailsAloneAndExitIsNonZero) {
  std::string long_ids = "1";
  for (int i = 0; i < 600; ++i) long_ids += ",5";
  const auto r = test::run_command(cli() + "-p 'Once upon a time' --ids " + long_ids + " -n 5 --json 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  const auto lines = test::json_lines(r.output);
  ASSERT_EQ(lines.size(), 2u) << r.output;
  EXPECT_EQ(lines[0]["new_ids"].size(), 5u);
  EXPECT_NE(lines[1]["error"].get<std::string>().find("more than the model's context length"),
            std::string::npos);
  EXPECT_NE(r.output.find("1 of 2 prompts failed"), std::string::npos) << r.output;
}

TEST(CliBatch, BadPromptsFilesAndFlagsAreNamed) {
  struct Case {
    std::string text, needle;
  } cases[] = {
      {"{\"prompt\": \"x\", \"bogus\": 1}\n", "line 1: unknown key \"bogus\""},
      {"{\"prompt\": \"x\"}\n{\"prompt\": 3}\n", "line 2: \"prompt\" has the wrong type"},
      {"{\"prompt\": \"x\"}\n{\"prompt\": \"y\", \"top_p\": 7}\n", "line 2: top_p"},
      {"{\"max_new_tokens\": 3}\n", "line 1: no \"prompt\" or \"ids\""},
      {"{\"prompt\": \"x\"\n", "line 1"},
      {"\n\n", "no prompts"},
  };
  for (const auto& c : cases) {
    const fs::path file = write_file("bad.jsonl", c.text);
    const auto r = test::run_command(cli() + "--prompts '" + file.string() + "' 2>&1");
    EXPECT_EQ(r.exit_code, 1) << c.text << r.output;
    EXPECT_NE(r.output.find(c.needle), std::string::npos) << c.text << r.output;
    EXPECT_EQ(r.output.find("terminate"), std::string::npos) << r.output;
    fs::remove(file);
  }
  for (const char* flag : {"--batch-size 0", "--batch-size 257", "--batch-size x"}) {
    const auto r = test::run_command(cli() + "-p a -p b " + flag + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << flag << r.output;
  }
  const auto missing = test::run_command(cli() + "--prompts /nonexistent/prompts.txt 2>&1");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("/nonexistent/prompts.txt"), std::string::npos) << missing.output;
}

TEST(CliBatch, LogprobsInEveryJsonObject) {
  const auto r =
      test::run_command(cli() + "-p 'Once upon a time' -p 'The dog' -n 4 --logprobs 2 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const auto& line : test::json_lines(r.output)) {
    ASSERT_EQ(line["logprobs"].size(), 4u) << line;
    for (size_t i = 0; i < 4; ++i) {
      const auto& step = line["logprobs"][i];
      EXPECT_EQ(step["id"], line["new_ids"][i]);
      EXPECT_LE(step["logprob"].get<double>(), 0.0);
      ASSERT_EQ(step["top"].size(), 2u);
      // Greedy: the chosen token is the most likely one.
      EXPECT_EQ(step["top"][0]["id"], step["id"]);
    }
  }
  EXPECT_EQ(test::run_command(cli() + "-p x --logprobs 21 2>&1").exit_code, 2);
}

}  // namespace
}  // namespace ortlm
