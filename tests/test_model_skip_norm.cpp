// The load-time residual norm fusion (src/graph/passes/skip_norm_fusion, verified in
// model/fused_session): each Add whose sum feeds an RMSNorm becomes one com.microsoft
// SkipSimplifiedLayerNormalization returning the norm and the sum, and computes what the exported graph
// computes (the oracle: the unmodified model in ONNX Runtime), in both ways exports write the norm.
#include <gtest/gtest.h>

#include "graph/onnx_graph.hpp"
#include "graph/passes/skip_norm_fusion.hpp"
#include "model/decoder.hpp"
#include "model/fused_session.hpp"
#include "model/ort_session.hpp"
#include "ortlm/model.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

struct Case {
  std::filesystem::path folder;
  size_t norms;  // 2 per layer: after attention, and before the next layer (or the LM head)
  float epsilon;
};

TEST(SkipNormFusion, ResidualNormsAreFusedAndComputeTheSame) {
  // stories260k: Pow(x, 2) and Div(x, sqrt); llama-optimum: Mul(x, x) and Mul(x, Div(1, sqrt)).
  for (const auto& c :
       {Case{test::bundled_model(), 10, 1e-5f}, Case{test::test_models() / "llama-optimum", 4, 1e-5f}}) {
    SCOPED_TRACE(c.folder.string());
    SessionOptions off;
    off.attention_fusion = AttentionFusion::never;
    const auto model = Model::load(c.folder, off);
    EXPECT_NE(model->describe().find("norms:         as exported"), std::string::npos);
    const auto graph = graph::OnnxGraph::load(model->onnx_path());
    const auto plan = graph::plan_skip_norm_fusion(graph);
    ASSERT_EQ(plan.norms, c.norms) << plan.why_not;
    ASSERT_EQ(plan.edit.added.size(), c.norms);
    for (const auto& node : plan.edit.added) {
      EXPECT_TRUE(node.is("SkipSimplifiedLayerNormalization", "com.microsoft"));
      ASSERT_EQ(node.outputs.size(), 4u);
      EXPECT_TRUE(graph.producer(node.outputs[3]).has_value());  // the sum, still read by the next residual
      EXPECT_TRUE(graph.nodes()[*graph.producer(node.outputs[3])].is("Add"));
      EXPECT_FLOAT_EQ(*node.attribute("epsilon")->f, c.epsilon);
    }
    // The exported graph's other nodes of the norms (square, mean, root, ...) are dropped as unused.
    EXPECT_LT(graph.node_count(plan.edit), graph.nodes().size() - 5 * c.norms);

    auto original = model::create_session(model->onnx_path(), {});
    std::string why_not;
    auto fused = model::verified_session(graph, plan.edit, original, model->decoder().layout, {}, why_not);
    ASSERT_TRUE(fused.has_value()) << why_not;
    EXPECT_LE(model::probe_difference(original, *fused, model->decoder().layout), 1e-5);

    // A different epsilon is a different norm: the probe refuses it.
    auto wrong = plan.edit;
    wrong.added[0].attributes[0].f = 0.5f;
    EXPECT_FALSE(
        model::verified_session(graph, wrong, original, model->decoder().layout, {}, why_not).has_value());
    EXPECT_NE(why_not.find("differ"), std::string::npos) << why_not;

    const auto loaded = Model::load(c.folder);
    EXPECT_NE(loaded->describe().find("norms:         " + std::to_string(c.norms) + " residual sums"),
              std::string::npos)
        << loaded->describe();
  }
}

TEST(SkipNormFusion, GraphsWithoutResidualNormsAreLeftAlone) {
  const auto graph = graph::OnnxGraph::load(test::test_models() / "gpt2-optimum" / "model.onnx");
  const auto plan = graph::plan_skip_norm_fusion(graph);
  EXPECT_EQ(plan.norms, 0u);
  EXPECT_TRUE(plan.edit.added.empty());
  EXPECT_EQ(plan.why_not, "no residual Add followed by an RMSNorm");
}

}  // namespace
}  // namespace ortlm
