// `ortlm quantize` end to end: usage errors exit 2 naming the flag, the output folder loads and
// `ortlm info` shows its quantization, --report prints the one table, a quantized model is refused.
#include <gtest/gtest.h>

#include <filesystem>

#include "test_support.hpp"

namespace ortlm::test {
namespace {

namespace fs = std::filesystem;

std::string cli() { return ORTLM_CLI; }

TEST(CliQuantize, BadFlagsAreUsageErrors) {
  const std::string out = (fs::path(::testing::TempDir()) / "ortlm_cli_quant_bad").string();
  for (const char* flags : {"--bits 3", "--block 24", "--method best", "--accuracy-level 5"}) {
    const auto r = run_command(cli() + " quantize " + bundled_model().string() + " " + out + " " + flags);
    EXPECT_EQ(r.exit_code, 2) << flags << ": " << r.output;
    EXPECT_NE(r.output.find(std::string(flags).substr(0, std::string(flags).find(' '))), std::string::npos)
        << r.output;
  }
  const auto missing = run_command(cli() + " quantize " + bundled_model().string());
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(CliQuantize, WritesAFolderThatLoadsAndReportsOnAText) {
  const fs::path out = fs::path(::testing::TempDir()) / "ortlm_cli_quant";
  fs::remove_all(out);
  const auto r =
      run_command(cli() + " quantize " + bundled_model().string() + " " + out.string() +
                  " --block 16 --method rtn --report " +
                  (source_dir() / "tests" / "data" / "eval_stories.txt").string() + " --report-tokens 16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(
      r.output.find(
          "20 MatMulNBits (25 projections stacked by input), 0 GatherBlockQuantized (4 bits, block 16, rtn, "
          "asymmetric)"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("LM head stays float32"), std::string::npos);
  EXPECT_NE(
      r.output.find("| model | file MB | perplexity | top-1 agreement | mean KL (nats) | decode tok/s |"),
      std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("| quantized |"), std::string::npos);

  const auto info = run_command(cli() + " info " + out.string());
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(
      info.output.find("quantized:     MatMulNBits (4 bits, block 16, accuracy level 4, zero points) x20"),
      std::string::npos)
      << info.output;

  const auto again = run_command(cli() + " quantize " + out.string() + " " + out.string() + "-again");
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already quantized (20 MatMulNBits nodes)"), std::string::npos) << again.output;
}

}  // namespace
}  // namespace ortlm::test
