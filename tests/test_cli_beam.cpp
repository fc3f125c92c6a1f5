// Beam search and --max-length from the command line: the flags and their ranges (exit 2), JSON
// lines per returned sequence (prompt_index, sequence_index, score), numbered text output, the
// prompts file's beam keys, chat, and the single-sequence output left as it was.
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

std::string cli(const std::string& command = "generate") {
  return std::string(ORTLM_CLI) + " " + command + " '" + test::bundled_model().string() + "' ";
}

std::vector<nlohmann::json> run_json(const std::string& flags, int exit_code = 0) {
  const auto r = test::run_command(cli() + flags + " --json 2>/dev/null");
  EXPECT_EQ(r.exit_code, exit_code) << flags << "\n" << r.output;
  return test::json_lines(r.output);
}

fs::path write_file(const std::string& name, const std::string& text) {
  const fs::path path = fs::temp_directory_path() / ("ortlm-beam-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

TEST(CliBeam, BadValuesAreUsageErrorsNamingTheRange) {
  const std::pair<std::string, std::string> cases[] = {
      {"--num-beams 0", "num_beams must be in [1, 32]"},
      {"--num-beams 33", "num_beams must be in [1, 32]"},
      {"--num-beams x", "--num-beams"},
      {"--num-beams 2 --num-return-sequences 3", "num_return_sequences must be in [1, num_beams = 2]"},
      {"--num-return-sequences 2", "num_return_sequences must be in [1, num_beams = 1]"},
      {"--num-beams 2 --length-penalty nan", "length_penalty must be finite"},
      {"--num-beams 2 --length-penalty inf", "length_penalty must be finite"},
      {"--num-beams 2 --early-stopping maybe", "--early-stopping: maybe not in {heuristic,on,never}"},
      {"--num-beams 2 --top-p 0.5", "top_p 0.5 conflicts with it"},
      {"--num-beams 2 --temperature 0.7", "temperature 0.7 conflicts with it"},
      {"--num-beams 2 --stop x", "stop_strings are not supported with beam search"},
      {"--max-length -3", "max_length must be >= 0"},
  };
  for (const auto& [flags, needle] : cases) {
    const auto r = test::run_command(cli() + "-p 'Once upon a time' " + flags + " 2>&1");
    EXPECT_EQ(r.exit_code, 2) << flags << "\n" << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << flags << "\n" << r.output;
  }
  // A max_length the prompt already fills depends on the prompt: a failure of that request (exit 1).
  const auto r = test::run_command(cli() + "-p 'Once upon a time' --max-length 5 2>&1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("max_length 5 must be more than the prompt's 5 tokens"), std::string::npos)
      << r.output;
}

TEST(CliBeam, OneJsonLinePerReturnedSequence) {
  const auto lines = run_json("-p 'Once upon a time' -n 20 --num-beams 4 --num-return-sequences 3");
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(lines[i]["prompt_index"], 0);
    EXPECT_EQ(lines[i]["sequence_index"], i);
    EXPECT_EQ(lines[i]["new_ids"].size(), 20u);
    EXPECT_EQ(lines[i]["stop_reason"], "max_tokens");
    if (i > 0) {
      EXPECT_LE(lines[i]["score"].get<double>(), lines[i - 1]["score"].get<double>());
      EXPECT_NE(lines[i]["new_ids"], lines[i - 1]["new_ids"]);
    }
  }
  // The best of three is the best of one, with the same score; one sequence keeps one plain object.
  const auto one = run_json("-p 'Once upon a time' -n 20 --num-beams 4");
  ASSERT_EQ(one.size(), 1u);
  EXPECT_FALSE(one[0].contains("sequence_index"));
  EXPECT_EQ(one[0]["new_ids"], lines[0]["new_ids"]);
  EXPECT_EQ(one[0]["text"], lines[0]["text"]);
  EXPECT_EQ(one[0]["score"], lines[0]["score"]);
}

TEST(CliBeam, PlainOutputKeepsItsShape) {
  const auto lines = run_json("-p 'Once upon a time' -n 5");
  ASSERT_EQ(lines.size(), 1u);
  std::vector<std::string> keys;
  for (const auto& [key, value] : lines[0].items()) keys.push_back(key);
  std::sort(keys.begin(), keys.end());
  const std::vector<std::string> expected{"decode_ms", "load_ms",          "new_ids", "prefill_ms",
                                          "prompt",    "prompt_ids",       "seed",    "stop_reason",
                                          "text",      "tokens_per_second"};
  EXPECT_EQ(keys, expected);
}

TEST(CliBeam, SeveralPromptsWithSeveralSequences) {
  const auto lines = run_json(
      "-p 'Once upon a time' --ids 1,403,407 -n 12 --num-beams 3 --num-return-sequences 2 --batch-size 8");
  ASSERT_EQ(lines.size(), 4u);
  const std::string alone[] = {"-p 'Once upon a time'", "--ids 1,403,407"};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(lines[i]["prompt_index"], i / 2);
    EXPECT_EQ(lines[i]["sequence_index"], i % 2);
  }
  for (size_t p = 0; p < 2; ++p) {
    const auto expected = run_json(alone[p] + " -n 12 --num-beams 3 --num-return-sequences 2");
    ASSERT_EQ(expected.size(), 2u);
    for (size_t s = 0; s < 2; ++s) EXPECT_EQ(lines[2 * p + s]["new_ids"], expected[s]["new_ids"]) << alone[p];
  }
}

TEST(CliBeam, TextOutputNumbersTheOtherSequences) {
  const auto r =
      test::run_command(cli() + "-p 'Once upon a time' -n 12 --num-beams 4 --num-return-sequences 3 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = run_json("-p 'Once upon a time' -n 12 --num-beams 4 --num-return-sequences 3");
  ASSERT_EQ(lines.size(), 3u);
  const std::string best = "Once upon a time" + lines[0]["text"].get<std::string>() + "\n";
  EXPECT_EQ(r.output.rfind(best, 0), 0u) << r.output;
  for (size_t i = 1; i < 3; ++i) {
    const std::string numbered =
        "[" + std::to_string(i + 1) + "] Once upon a time" + lines[i]["text"].get<std::string>() + "\n";
    EXPECT_NE(r.output.find(numbered), std::string::npos) << r.output;
  }
  EXPECT_NE(r.output.find("4 beams, score "), std::string::npos) << r.output;
}

TEST(CliBeam, MaxLengthCountsThePrompt) {
  const auto greedy = run_json("-p 'Once upon a time' --max-length 9");
  ASSERT_EQ(greedy.size(), 1u);
  EXPECT_EQ(greedy[0]["new_ids"].size(), 4u);  // 5 prompt tokens
  const auto sampled = run_json("-p 'Once upon a time' --max-length 12 --seed 3 -n 4");
  ASSERT_EQ(sampled.size(), 1u);
  EXPECT_EQ(sampled[0]["new_ids"].size(), 4u);  // -n is tighter
  const auto beams = run_json("-p 'Once upon a time' --max-length 11 --num-beams 2");
  ASSERT_EQ(beams.size(), 1u);
  EXPECT_EQ(beams[0]["new_ids"].size(), 6u);
}

TEST(CliBeam, PromptsFileTakesBeamKeys) {
  const fs::path file =
      write_file("prompts.jsonl",
                 "{\"prompt\": \"Once upon a time\", \"num_beams\": 3, \"num_return_sequences\": "
                 "2, \"early_stopping\": \"never\", \"length_penalty\": 0.5}\n"
                 "{\"prompt\": \"The dog\", \"max_length\": 6}\n");
  const auto lines = run_json("--prompts '" + file.string() + "' -n 10");
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0]["sequence_index"], 0);
  EXPECT_EQ(lines[1]["sequence_index"], 1);
  EXPECT_EQ(lines[2]["prompt_index"], 1);
  EXPECT_FALSE(lines[2].contains("sequence_index"));
  const auto expected = run_json(
      "-p 'Once upon a time' -n 10 --num-beams 3 --num-return-sequences 2 --early-stopping never "
      "--length-penalty 0.5");
  ASSERT_EQ(expected.size(), 2u);
  EXPECT_EQ(lines[0]["new_ids"], expected[0]["new_ids"]);
  EXPECT_EQ(lines[1]["new_ids"], expected[1]["new_ids"]);
  EXPECT_EQ(lines[2]["new_ids"].size() + lines[2]["prompt_ids"].size(), 6u);
  fs::remove(file);

  const fs::path bad = write_file("bad.jsonl", "{\"prompt\": \"x\", \"early_stopping\": \"soon\"}\n");
  const auto r = test::run_command(cli() + "--prompts '" + bad.string() + "' 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("line 1: \"early_stopping\" must be"), std::string::npos) << r.output;
  fs::remove(bad);
}

// Chat samples by default; --num-beams turns that off, unless a sampling flag is given too.
TEST(CliBeam, ChatRunsBeamSearch) {
  const fs::path conversation = write_file("conv.json", R"([{"role": "user", "content": "Hello"}])");
  const std::string chat = cli("chat") + "--messages '" + conversation.string() + "' -n 10 ";
  const auto r = test::run_command(chat + "--num-beams 3 --num-return-sequences 2 --json 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto lines = test::json_lines(r.output);
  ASSERT_EQ(lines.size(), 2u) << r.output;
  EXPECT_EQ(lines[1]["sequence_index"], 1);
  const auto again = test::run_command(chat + "--num-beams 3 --num-return-sequences 2 --json 2>/dev/null");
  const auto again_lines = test::json_lines(again.output);
  ASSERT_EQ(again_lines.size(), 2u);
  EXPECT_EQ(again_lines[0]["new_ids"], lines[0]["new_ids"]) << "beam search does not sample";
  const auto conflict = test::run_command(chat + "--num-beams 3 --temperature 0.5 2>&1");
  EXPECT_EQ(conflict.exit_code, 2) << conflict.output;
  fs::remove(conversation);
}

}  // namespace
}  // namespace ortlm
