// The load-time LM head sharing (src/graph/passes/lm_head_sharing, verified in model/fused_session):
// an LM head stored as a transposed copy of the tied embedding reads the embedding instead, the
// copy dropped, computing what the exported graph computes (the oracle: the unmodified model in
// ONNX Runtime); untied heads are left alone; a sharing that computes something else is refused.
#include <gtest/gtest.h>

#include "graph/onnx_graph.hpp"
#include "graph/passes/lm_head_sharing.hpp"
#include "model/decoder.hpp"
#include "model/fused_session.hpp"
#include "model/ort_session.hpp"
#include "ortlm/model.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

SessionOptions fusion(AttentionFusion mode) {
  SessionOptions options;
  options.attention_fusion = mode;
  return options;
}

TEST(LmHeadSharing, TheBundledModelsTransposedCopyIsDroppedAndComputesTheSame) {
  const auto model = Model::load(test::bundled_model(), fusion(AttentionFusion::never));
  const auto graph = graph::OnnxGraph::load(model->onnx_path());
  const auto plan = graph::plan_lm_head_sharing(graph);
  ASSERT_TRUE(plan.shares()) << plan.why_not;
  EXPECT_EQ(plan.edit.removed_initializers, std::set<std::string>{"lm_head"});  // stories260k's copy of E^T
  ASSERT_EQ(plan.edit.added.size(), 1u);
  EXPECT_TRUE(plan.edit.added[0].is("FusedMatMul", "com.microsoft"));
  EXPECT_EQ(plan.edit.added[0].inputs[1], "embed_tokens");

  auto original = model::create_session(model->onnx_path(), {});
  std::string why_not;
  auto shared = model::verified_session(graph, plan.edit, original, model->decoder().layout, {}, why_not);
  ASSERT_TRUE(shared.has_value()) << why_not;
  EXPECT_LE(model::probe_difference(original, *shared, model->decoder().layout), 1e-6);

  // The embedding read without the transpose is a different matrix: the probe refuses it.
  auto wrong = plan.edit;
  wrong.added[0].attributes.clear();  // transB = 0: x [.., 64] times E [512, 64] fails or differs
  EXPECT_FALSE(
      model::verified_session(graph, wrong, original, model->decoder().layout, {}, why_not).has_value());
  EXPECT_FALSE(why_not.empty());

  EXPECT_NE(model->describe().find("lm head:       as exported"), std::string::npos);
  const auto loaded = Model::load(test::bundled_model());
  EXPECT_NE(loaded->describe().find("lm head:       reads the tied embedding"), std::string::npos);
}

TEST(LmHeadSharing, UntiedHeadsAreLeftAlone) {
  const auto graph = graph::OnnxGraph::load(test::test_models() / "llama-optimum" / "onnx" / "model.onnx");
  const auto plan = graph::plan_lm_head_sharing(graph);
  EXPECT_FALSE(plan.shares());
  EXPECT_EQ(plan.why_not, "no MatMul reads the embedding transposed");
}

}  // namespace
}  // namespace ortlm
