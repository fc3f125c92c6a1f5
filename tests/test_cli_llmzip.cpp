// `ortlm compress` and `ortlm decompress` end to end: pipes, files, the positional forms, --stats,
// --verify, and the errors (usage exit 2, failures exit 1 naming what is wrong).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm {
namespace {

namespace fs = std::filesystem;

const std::string kCli = ORTLM_CLI;

struct Scratch {
  fs::path dir = fs::temp_directory_path() / ("ortlm_cli_llmzip_" + std::to_string(::getpid()));
  Scratch() { fs::create_directories(dir); }
  ~Scratch() { fs::remove_all(dir); }
  std::string path(const std::string& name) const { return (dir / name).string(); }
};

const std::string kText =
    "Once upon a time, there was a little girl named Lily. She loved to play outside in the sun.\n"
    "One day, she saw a big, red ball. \xff (a bad byte) She was very happy.\n";

TEST(CliLlmzip, PipesRoundTrip) {
  Scratch s;
  util::write_file_atomically(s.path("in.txt"), kText);
  // stdin to stdout both ways, the bundled model by default.
  const auto r = test::run_command(kCli + " compress < " + s.path("in.txt") + " | " + kCli +
                                   " decompress > " + s.path("out.txt"));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(util::read_file(s.path("out.txt")), kText);
  // "-" names stdin and stdout too, after an explicit model.
  const std::string model = test::bundled_model().string();
  const auto dash = test::run_command("cat " + s.path("in.txt") + " | " + kCli + " compress " + model +
                                      " - - | " + kCli + " decompress " + model + " - " + s.path("out2.txt"));
  ASSERT_EQ(dash.exit_code, 0) << dash.output;
  EXPECT_EQ(util::read_file(s.path("out2.txt")), kText);
  EXPECT_EQ(dash.output, "");  // quiet when piped: no progress bar
}

TEST(CliLlmzip, FilesStatsAndVerify) {
  Scratch s;
  std::string text;
  for (int i = 0; i < 10; ++i) text += kText;
  util::write_file_atomically(s.path("in.txt"), text);
  const auto c = test::run_command(kCli + " compress " + s.path("in.txt") + " " + s.path("a.oz") +
                                   " --stats --verify --batch 2 --chunk 200 --threads 2");
  ASSERT_EQ(c.exit_code, 0) << c.output;
  for (const char* expected : {"bits/byte", "ideal code length", "gzip -9:", "xz -9:", "zstd -19:", "KB/s"})
    EXPECT_NE(c.output.find(expected), std::string::npos) << expected << "\n" << c.output;
  const auto d =
      test::run_command(kCli + " decompress " + s.path("a.oz") + " " + s.path("b.txt") + " --stats");
  ASSERT_EQ(d.exit_code, 0) << d.output;
  EXPECT_NE(d.output.find("KB/s"), std::string::npos) << d.output;
  EXPECT_EQ(util::read_file(s.path("b.txt")), text);
  // TinyStories-like text through the TinyStories model: well under half its size.
  EXPECT_LT(fs::file_size(s.path("a.oz")), text.size() / 2);
}

TEST(CliLlmzip, Errors) {
  Scratch s;
  util::write_file_atomically(s.path("junk.oz"), "not an archive at all");
  const auto junk = test::run_command(kCli + " decompress " + s.path("junk.oz") + " " + s.path("x"));
  EXPECT_EQ(junk.exit_code, 1);
  EXPECT_NE(junk.output.find("not an LLMzip archive"), std::string::npos) << junk.output;
  EXPECT_FALSE(fs::exists(s.path("x")));
  EXPECT_EQ(test::run_command(kCli + " compress --batch 0 < /dev/null").exit_code, 2);
  EXPECT_EQ(test::run_command(kCli + " compress --chunk 10 < /dev/null").exit_code, 2);
  EXPECT_EQ(test::run_command(kCli + " compress a b c d < /dev/null").exit_code, 2);
  const auto missing = test::run_command(kCli + " compress " + s.path("missing.txt") + " " + s.path("y"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("missing.txt"), std::string::npos) << missing.output;
  // Another model (random weights, same tokenizer) is refused naming the mismatch.
  util::write_file_atomically(s.path("in.txt"), kText);
  ASSERT_EQ(test::run_command(kCli + " compress " + s.path("in.txt") + " " + s.path("a.oz")).exit_code, 0);
  const auto other =
      test::run_command(kCli + " decompress " + (test::test_models() / "llama-optimum").string() + " " +
                        s.path("a.oz") + " " + s.path("z"));
  EXPECT_EQ(other.exit_code, 1);
  EXPECT_NE(other.output.find("another model"), std::string::npos) << other.output;
}

}  // namespace
}  // namespace ortlm
