// Hostile batches: prompts files and batch flags a stranger could hand to `ortlm generate` (issue 9).
// Each run is under the suite's address-space limit: a clean error or a correct result, never a
// crash, a hang or runaway memory.
#include "hostile/hostile_support.hpp"

namespace ortlm::hostile {
namespace {

std::string bundled() { return test::bundled_model().string(); }

TEST(HostileBatch, TooManyPromptsInAFileAreRefusedNamingTheLine) {
  const fs::path dir = scratch_dir("many-prompts");
  std::string lines;
  for (int i = 0; i < 100001; ++i) lines += "a\n";
  write_file(dir / "prompts.txt", lines);
  expect_clean_error(run_ortlm({"generate", bundled(), "--prompts", (dir / "prompts.txt").string()}),
                     "line 100001: more than 100000 prompts in one file");
}

TEST(HostileBatch, MalformedJsonLinesAreNamed) {
  const fs::path dir = scratch_dir("bad-jsonl");
  const std::pair<std::string, std::string> cases[] = {
      {"{\"prompt\": \"x\", \"max_new_tokens\": 99999999999999999999}\n", "line 1"},
      {"{\"prompt\": \"x\", \"seed\": -1}\n", "line 1: \"seed\" -1 is out of range"},
      {"{\"prompt\": \"x\", \"max_new_tokens\": 4294967297}\n",
       "\"max_new_tokens\" 4294967297 is out of range"},
      {"{\"prompt\": \"x\", \"top_k\": 2.5}\n", "line 1: \"top_k\" has the wrong type (number)"},
      {"{\"ids\": [1, -4294967295]}\n", "\"ids\" -4294967295 is out of range"},
      {"{\"prompt\": \"x\"}\n" + std::string(300, '[') + "\n", "line 2"},
      {"{\"prompt\": \"x\", \"num_beams\": 1000}\n", "line 1: num_beams"},
      {"{\"ids\": [1, 2147483647]}\n", "outside the model's vocabulary"},
      {"{\"prompt\": \"\\ud800\"}\n", ""},  // a lone surrogate: JSON-valid, not UTF-8: refused or replaced
  };
  for (const auto& [text, needle] : cases) {
    write_file(dir / "p.jsonl", text);
    const Outcome o = run_ortlm({"generate", bundled(), "--prompts", (dir / "p.jsonl").string(), "-n", "2"});
    EXPECT_FALSE(looks_crashed(o)) << text << describe(o);
    if (!needle.empty()) expect_clean_error(o, needle);
  }
}

TEST(HostileBatch, ManyRowsAndLongGenerationsStayBounded) {
  // 256 rows (the most a pass takes) of the longest prompt the context allows, each asking for the
  // most tokens: the KV cache for them is sized from the context, not from max_new_tokens.
  const fs::path dir = scratch_dir("many-rows");
  std::string lines;
  for (int i = 0; i < 256; ++i) lines += "{\"ids\": [1, 403], \"max_new_tokens\": 2147483647}\n";
  write_file(dir / "p.jsonl", lines);
  const Outcome o = run_ortlm({"generate", bundled(), "--prompts", (dir / "p.jsonl").string(), "--batch-size",
                               "256", "--ignore-eos", "--json"},
                              {.timeout_seconds = 300});
  expect_success(o);
  size_t rows = 0;
  for (size_t at = o.out.find("\"stop_reason\":\"context_full\""); at != std::string::npos;
       at = o.out.find("\"stop_reason\":\"context_full\"", at + 1))
    ++rows;
  EXPECT_EQ(rows, 256u);
}

}  // namespace
}  // namespace ortlm::hostile
