// `ortlm quantize --fp16` (src/quant/float16): the float32 -> float16 rounding against values worked
// out from IEEE 754's half format, and q4f16 models (the bundled model with real weights, and one with
// external data) that keep no float32 tensor, declare float16 KV and logits, and run with the same
// greedy ids in ortlm and in onnxruntime-node (an independent runtime).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include "graph/onnx_fields.hpp"
#include "graph/onnx_graph.hpp"
#include "greedy_oracles.hpp"
#include "model/decoder.hpp"
#include "ortlm/generator.hpp"
#include "quant/float16.hpp"
#include "quant/model_folder.hpp"
#include "test_support.hpp"

namespace ortlm::quant {
namespace {

namespace fs = std::filesystem;
using test::as_json;
using test::node_greedy;
using test::ortlm_greedy;

TEST(Float16, RoundsToNearestEvenAndClampsToTheLargestFinite) {
  EXPECT_EQ(to_float16(1.0f), 0x3c00);
  EXPECT_EQ(to_float16(-2.0f), 0xc000);
  EXPECT_EQ(to_float16(0.0f), 0x0000);
  EXPECT_EQ(to_float16(-0.0f), 0x8000);
  EXPECT_EQ(to_float16(0.1f), 0x2e66);  // 0.0999755859375
  EXPECT_EQ(to_float16(65504.0f), 0x7bff);
  // 1 + 2^-11 is halfway between 1 and 1 + 2^-10: to the even one; 1 + 3 * 2^-11 rounds up to 1 + 2^-9.
  EXPECT_EQ(to_float16(1.0f + std::ldexp(1.0f, -11)), 0x3c00);
  EXPECT_EQ(to_float16(1.0f + 3 * std::ldexp(1.0f, -11)), 0x3c02);
  EXPECT_EQ(to_float16(2047.5f), 0x6800);  // the mantissa carries into the exponent: 2048
  // Subnormals are multiples of 2^-24; below half of it, zero.
  EXPECT_EQ(to_float16(std::ldexp(1.0f, -24)), 0x0001);
  EXPECT_EQ(to_float16(std::ldexp(3.0f, -24)), 0x0003);
  EXPECT_EQ(to_float16(std::ldexp(1.0f, -26)), 0x0000);
  EXPECT_EQ(to_float16(std::ldexp(1023.0f, -24)), 0x03ff);  // the largest subnormal
  EXPECT_EQ(to_float16(std::ldexp(1.0f, -14)), 0x0400);     // the smallest normal
  // Beyond the range: the largest finite value, so that masks made of the float32 minimum stay finite.
  EXPECT_EQ(to_float16(1e6f), 0x7bff);
  EXPECT_EQ(to_float16(-std::numeric_limits<float>::max()), 0xfbff);
  EXPECT_EQ(to_float16(std::numeric_limits<float>::infinity()), 0x7bff);
  EXPECT_EQ(to_float16(std::numeric_limits<float>::quiet_NaN()) & 0x7e00, 0x7e00);
}

struct Case {
  const char* name;
  fs::path model;
  const char* prompt;
  std::vector<int32_t> prompt_ids;
};

class Q4f16 : public ::testing::TestWithParam<Case> {};

TEST_P(Q4f16, KeepsNoFloat32AndRunsAsOnnxRuntimeNode) {
  const Case c = GetParam();
  const fs::path out = fs::path(::testing::TempDir()) / (std::string("ortlm_q4f16_") + c.name);
  fs::remove_all(out);
  QuantizeOptions options;
  options.fp16 = true;
  options.lm_head = true;
  options.embeddings = true;
  const auto q = quantize_folder(c.model, out, options);
  EXPECT_EQ(q.onnx.filename(), "model_q4f16.onnx");

  const auto g = graph::OnnxGraph::load(q.onnx);
  for (const auto& name : g.initializer_names())
    EXPECT_NE(g.tensor(name).data_type, graph::onnx::kFloat32) << name;
  for (const auto* values : {&g.input_values(), &g.output_values()})
    for (const auto& v : *values)
      EXPECT_NE(v.elem_type, static_cast<int32_t>(graph::onnx::kFloat32)) << v.name;
  const auto model = Model::load(out);
  EXPECT_EQ(model->decoder().layout.kv_type, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);
  EXPECT_EQ(model->decoder().layout.logits.type, ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16);

  EXPECT_EQ(as_json(ortlm_greedy(out, c.prompt_ids, 24)), node_greedy(q.onnx, c.prompt, 24));
}

INSTANTIATE_TEST_SUITE_P(
    Models, Q4f16,
    ::testing::Values(
        Case{"stories260k", test::bundled_model(), "1,403,407", {1, 403, 407}},
        Case{"external_data", test::test_models() / "llama-optimum-external", "1,5,9", {1, 5, 9}}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace ortlm::quant
