// SiluMul (src/model/silu_mul_*, src/graph/passes/silu_mul_fusion): each kernel implementation the CPU
// runs against silu(g) * u in double precision, tails and saturating inputs included; the load-time
// rewrite on separate gate and up projections, verified against the exported graph in ONNX Runtime; a
// rewrite computing something else (gate and up swapped) is refused by the probe. The packed form (one
// stacked MatMulNBits, its Split dropped) is checked on quantized models in test_quant_model.cpp.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <utility>
#include <vector>

#include "graph/onnx_graph.hpp"
#include "graph/passes/silu_mul_fusion.hpp"
#include "model/decoder.hpp"
#include "model/fused_session.hpp"
#include "model/ort_session.hpp"
#include "model/silu_mul_kernel.hpp"
#include "ortlm/model.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

using model::kernels::SiluMulFn;

std::vector<std::pair<const char*, SiluMulFn>> implementations() {
  std::vector<std::pair<const char*, SiluMulFn>> out{{"scalar", model::kernels::silu_mul_scalar}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    out.emplace_back("avx2", model::kernels::silu_mul_avx2);
  if (__builtin_cpu_supports("avx512f")) out.emplace_back("avx512", model::kernels::silu_mul_avx512);
#endif
  return out;
}

TEST(SiluMulKernel, EveryImplementationMatchesDoublePrecision) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-12.0f, 12.0f);
  for (const int64_t n : {1, 7, 16, 37, 1536}) {  // tails after 8 and 16 lanes
    std::vector<float> gate(static_cast<size_t>(n)), up(gate.size());
    for (size_t i = 0; i < gate.size(); ++i) {
      gate[i] = uniform(rng);
      up[i] = uniform(rng);
    }
    gate[0] = n > 1 ? -100.0f : 100.0f;  // e^-g past float's range: silu is -0 or g, never NaN
    if (n > 2) gate[2] = 0.0f;
    for (const auto& [name, silu_mul] : implementations()) {
      std::vector<float> out(gate.size(), std::nanf(""));
      silu_mul(gate.data(), up.data(), out.data(), n);
      for (size_t i = 0; i < gate.size(); ++i) {
        const double g = gate[i], expected = g / (1.0 + std::exp(-g)) * up[i];
        ASSERT_NEAR(out[i], expected, 2e-6 * (1.0 + std::fabs(expected))) << name << " n " << n << " i " << i;
      }
    }
  }
}

TEST(SiluMulKernel, SelectionFollowsTheCpu) {
  const char* name = nullptr;
  model::kernels::select_silu_mul(&name);
  EXPECT_STREQ(name, test::widest_isa());
}

TEST(SiluMulFusion, SeparateProjectionsAreFusedAndComputeTheSame) {
  SessionOptions off;
  off.attention_fusion = AttentionFusion::never;
  const auto model = Model::load(test::bundled_model(), off);
  EXPECT_NE(model->describe().find("mlp:           as exported"), std::string::npos);
  const auto graph = graph::OnnxGraph::load(model->onnx_path());
  const auto plan = graph::plan_silu_mul_fusion(graph);
  ASSERT_EQ(plan.activations, 5u) << plan.why_not;  // one per layer
  EXPECT_EQ(plan.packed, 0u);
  for (const auto& node : plan.edit.added) {
    EXPECT_TRUE(node.is("SiluMul", "ortlm"));
    EXPECT_EQ(node.inputs.size(), 2u);
  }
  // Per layer the sigmoid, its Mul and the product go; one node comes.
  EXPECT_EQ(graph.node_count(plan.edit), graph.nodes().size() - 2 * plan.activations);

  auto original = model::create_session(model->onnx_path(), {});
  const auto& layout = model->decoder().layout;
  std::string why_not;
  auto fused = model::verified_session(graph, plan.edit, original, layout, {}, why_not);
  ASSERT_TRUE(fused.has_value()) << why_not;
  EXPECT_LE(model::probe_difference(original, *fused, layout), 1e-5);

  // Gate and up swapped: silu(up) * gate is another function.
  auto wrong = plan.edit;
  std::swap(wrong.added[0].inputs[0], wrong.added[0].inputs[1]);
  EXPECT_FALSE(model::verified_session(graph, wrong, original, layout, {}, why_not).has_value());
  EXPECT_NE(why_not.find("differ"), std::string::npos) << why_not;

  EXPECT_NE(Model::load(test::bundled_model())->describe().find("mlp:           5 silu(gate) * up fused"),
            std::string::npos);
}

TEST(SiluMulFusion, GraphsWithoutGatedMlpsAreLeftAlone) {
  const auto graph = graph::OnnxGraph::load(test::test_models() / "gpt2-optimum" / "model.onnx");
  const auto plan = graph::plan_silu_mul_fusion(graph);
  EXPECT_EQ(plan.activations, 0u);
  EXPECT_EQ(plan.why_not, "no Mul(Mul(g, Sigmoid(g)), up)");
}

}  // namespace
}  // namespace ortlm
