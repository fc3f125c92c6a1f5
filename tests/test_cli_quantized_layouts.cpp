// Quantized models as other tools write them (tools/quantized_test_models.py): onnxruntime-genai's int4
// layout (packed QKV MatMulNBits feeding GroupQueryAttention, genai_config.json, model.onnx.data) and
// onnx-community's q4 layout (model_q4.onnx, MatMulNBits without accuracy_level, the embedding a
// GatherBlockQuantized). Each loads, `ortlm info` names bits / block size / accuracy level, and greedy
// generation gives the ids onnxruntime-node (an independent runtime) gives on the same file.
#include <gtest/gtest.h>

#include <filesystem>

#include "greedy_oracles.hpp"
#include "test_support.hpp"

namespace ortlm::test {
namespace {

namespace fs = std::filesystem;

std::string cli() { return ORTLM_CLI; }

// The "new_ids" array of `ortlm generate --json`, as written ("[1,2,3]").
std::string new_ids(const std::string& json) {
  const size_t at = json.find("\"new_ids\":");
  if (at == std::string::npos) return "(no new_ids in: " + json + ")";
  return json.substr(at + 10, json.find(']', at) - at - 9);
}

struct Layout {
  const char* folder;
  const char* onnx;       // relative to the folder
  const char* quantized;  // `ortlm info`'s quantized: line
  const char* attention;  // the start of its attention: line
};

class QuantizedLayout : public ::testing::TestWithParam<Layout> {};

TEST_P(QuantizedLayout, LoadsDescribesAndGeneratesAsOnnxRuntimeNode) {
  const Layout l = GetParam();
  const fs::path folder = test_models() / l.folder;
  const auto info = run_command(cli() + " info " + folder.string());
  ASSERT_EQ(info.exit_code, 0) << info.output;
  EXPECT_NE(info.output.find(std::string("quantized:     ") + l.quantized + "\n"), std::string::npos)
      << info.output;
  EXPECT_NE(info.output.find(std::string("attention:     ") + l.attention), std::string::npos) << info.output;

  const std::string prompt = "1,403,407,261";
  const auto generated = run_command(cli() + " generate " + folder.string() + " --ids " + prompt +
                                     " -n 24 --greedy --ignore-eos --json");
  ASSERT_EQ(generated.exit_code, 0) << generated.output;
  EXPECT_EQ(new_ids(generated.output), node_greedy(folder / l.onnx, prompt, 24));
}

INSTANTIATE_TEST_SUITE_P(
    OtherTools, QuantizedLayout,
    ::testing::Values(
        Layout{"genai-int4", "model.onnx", "MatMulNBits (4 bits, block 32, accuracy level 4, symmetric) x11",
               "not fused: the attention is already one operator"},
        Layout{"onnx-community-q4", "onnx/model_q4.onnx",
               "GatherBlockQuantized (4 bits, block 32, zero points) x1; MatMulNBits (4 bits, block 32, "
               "accuracy level 0 (unset), symmetric) x15",
               "fused in 2 layers"}),
    [](const auto& info) {
      std::string name = info.param.folder;
      for (auto& c : name)
        if (c == '-') c = '_';
      return name;
    });

}  // namespace
}  // namespace ortlm::test
