// The load-time attention rewrite (src/graph/passes/attention_fusion, src/model/fused_session): the rewritten
// graph must compute what the exported graph computes (the oracle is the unmodified model run by ONNX
// Runtime), layouts it does not know are left alone with a reason, and a rewrite that computes something else
// is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>

#include "graph/onnx_graph.hpp"
#include "graph/passes/attention_fusion.hpp"
#include "model/fused_session.hpp"
#include "model/ort_session.hpp"
#include "ortlm/error.hpp"
#include "ortlm/model.hpp"
#include "single_sequence.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

namespace fs = std::filesystem;

SessionOptions with_fusion(AttentionFusion mode) {
  SessionOptions options;
  options.attention_fusion = mode;
  return options;
}

fs::path model_path(const std::string& name) {
  return name == "stories260k" ? test::source_dir() / "models" / "stories260k" : test::test_models() / name;
}

// The attention geometry of the Llama test models (4 query heads; their RoPE tables are read from the graph).
graph::AttentionGeometry test_geometry(const Model& model) {
  const auto& layout = model.decoder().layout;
  return {.num_heads = 4,
          .kv_heads = layout.kv_heads,
          .head_size = layout.head_size,
          .max_positions = model.config().context_length};
}

class FusedVersusExported : public ::testing::TestWithParam<std::string> {};

TEST_P(FusedVersusExported, SameTokensAndLogits) {
  const fs::path path = model_path(GetParam());
  const auto exported = Model::load(path, with_fusion(AttentionFusion::never));
  const auto fused = Model::load(path, with_fusion(AttentionFusion::always));
  EXPECT_EQ(exported->attention_fusion_note(), "as exported (fusion off)");
  EXPECT_EQ(fused->attention_fusion_note().rfind(
                "fused in " + std::to_string(fused->config().num_layers) + " layers", 0),
            0u)
      << fused->attention_fusion_note();

  // A prompt, then enough steps to cross the prefill/decode boundary many times over.
  const int32_t vocab = exported->config().vocab_size;
  std::vector<int32_t> prompt{1, 9 % vocab, 300 % vocab, 77 % vocab, 5 % vocab};
  const auto expected = test::greedy_logits(*exported, prompt, 48);
  const auto actual = test::greedy_logits(*fused, prompt, 48);
  float worst = 0;
  for (size_t step = 0; step < expected.size(); ++step) {
    ASSERT_EQ(test::argmax(actual[step]), test::argmax(expected[step])) << GetParam() << " step " << step;
    for (size_t i = 0; i < expected[step].size(); ++i)
      worst = std::max(worst, std::abs(actual[step][i] - expected[step][i]));
  }
  EXPECT_LE(worst, 1e-4f) << GetParam();
}

INSTANTIATE_TEST_SUITE_P(Llama, FusedVersusExported,
                         ::testing::Values("stories260k", "llama-optimum", "llama-optimum-external"),
                         [](const auto& info) {
                           std::string name = info.param;
                           std::replace(name.begin(), name.end(), '-', '_');
                           return name;
                         });

TEST(AttentionFusion, AutomaticFusesTheSmallBundledModel) {
  const auto model = Model::load(model_path("stories260k"));
  EXPECT_EQ(model->attention_fusion_note().rfind("fused in 5 layers", 0), 0u)
      << model->attention_fusion_note();
  EXPECT_NE(model->describe().find("attention:     fused in 5 layers"), std::string::npos);
}

TEST(AttentionFusion, OtherLayoutsAreLeftAsExportedWithTheReason) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"llama-no-position-ids", "not fused: the graph has no position_ids input"},
      {"llama-optimum-fp16", "not fused: the KV cache is not float32"},
      {"llama-merged", "not fused: not a separate-KV optimum layout"},
      {"genai-gqa", "not fused: the attention is already one operator (GroupQueryAttention)"},
      {"gpt2-optimum", "not fused: layer 0: the key's rotary embedding is not HF's rotate-half pattern"},
  };
  for (const auto& [name, reason] : cases) {
    const auto model = Model::load(test::test_models() / name, with_fusion(AttentionFusion::always));
    EXPECT_EQ(model->attention_fusion_note().rfind(reason, 0), 0u)
        << name << ": " << model->attention_fusion_note();
  }
}

// Serializing with no edit reproduces the model: same outputs, bit for bit.
TEST(OnnxGraph, UneditedRoundTripComputesTheSame) {
  for (const char* name : {"stories260k", "llama-optimum", "llama-optimum-external", "gpt2-optimum"}) {
    const auto model = Model::load(model_path(name), with_fusion(AttentionFusion::never));
    const auto graph = graph::OnnxGraph::load(model->onnx_path());
    EXPECT_EQ(graph.node_count({}), graph.nodes().size()) << name;
    auto original = model::create_session(model->onnx_path(), {});
    auto copy = model::create_session_from_bytes(graph.serialize({}), model->onnx_path(), {});
    EXPECT_EQ(model::probe_difference(original, copy, model->decoder().layout), 0.0) << name;
  }
}

// The probe notices a rewrite that computes something else (here: attention scaled twice over).
TEST(AttentionFusion, ProbeRejectsARewriteThatDiffers) {
  const auto model = Model::load(model_path("llama-optimum"), with_fusion(AttentionFusion::never));
  const auto& layout = model->decoder().layout;
  const auto graph = graph::OnnxGraph::load(model->onnx_path());
  const auto geometry = test_geometry(*model);
  auto plan = model::plan_fusion(graph, layout, geometry, 17);
  ASSERT_EQ(plan.layers, 2u) << plan.why_not;
  auto original = model::create_session(model->onnx_path(), {});
  auto good = model::create_session_from_bytes(graph.serialize(plan.edit), model->onnx_path(), {});
  EXPECT_LE(model::probe_difference(original, good, layout), 1e-5);

  size_t changed = 0;
  for (auto& node : plan.edit.added) {
    for (auto& attribute : node.attributes) {
      if (attribute.name == "alpha") {
        *attribute.f *= 2;
        ++changed;
      }
    }
  }
  ASSERT_EQ(changed, 2u);
  auto wrong = model::create_session_from_bytes(graph.serialize(plan.edit), model->onnx_path(), {});
  EXPECT_GT(model::probe_difference(original, wrong, layout), 1e-3);
}

// A model whose MatMulNBits compute with int8 activations (accuracy_level 4): the probe judges the
// rewrite on copies computing in float32, so a right rewrite is kept (on deep models int8 rounding
// alone moved the outputs ~1e-2 and refused it) and a wrong one is still refused.
TEST(AttentionFusion, ProbeJudgesInt8ActivationModelsInFloat32) {
  const auto model = Model::load(model_path("llama-q4-int8"), with_fusion(AttentionFusion::never));
  const auto& layout = model->decoder().layout;
  const auto graph = graph::OnnxGraph::load(model->onnx_path());
  ASSERT_EQ(
      graph.summary().quantization.count("MatMulNBits (4 bits, block 32, accuracy level 4, zero points)"),
      1u);
  const auto geometry = test_geometry(*model);
  auto plan = model::plan_fusion(graph, layout, geometry, 17);
  ASSERT_EQ(plan.layers, 2u) << plan.why_not;
  auto original = model::create_session(model->onnx_path(), {});
  std::string why_not;
  auto kept = model::verified_session(graph, plan.edit, original, layout, {}, why_not);
  ASSERT_TRUE(kept.has_value()) << why_not;
  // The kept session is the rewrite as stored (int8 activations), close to the original.
  EXPECT_LE(model::probe_difference(original, *kept, layout), 0.05);

  for (auto& node : plan.edit.added)
    for (auto& attribute : node.attributes)
      if (attribute.name == "alpha") *attribute.f *= 2;
  EXPECT_FALSE(model::verified_session(graph, plan.edit, original, layout, {}, why_not).has_value());
  EXPECT_NE(why_not.find("differ from the original"), std::string::npos) << why_not;
}

// A model whose weights are external data, rewritten (streamed) to a file in another folder beside
// a copy of its .onnx_data: the external tensors stay references to that file, and ONNX Runtime
// loads the rewrite from there and computes what the original computes.
TEST(AttentionFusion, RewriteWithExternalDataLoadsFromAnotherFolder) {
  const auto model = Model::load(model_path("llama-optimum-external"), with_fusion(AttentionFusion::never));
  const auto& layout = model->decoder().layout;
  const auto graph = graph::OnnxGraph::load(model->onnx_path());
  ASSERT_EQ(graph.summary().external_data_files, std::set<std::string>{"model.onnx_data"});
  const auto geometry = test_geometry(*model);
  const auto plan = model::plan_fusion(graph, layout, geometry, 17);
  ASSERT_EQ(plan.layers, 2u) << plan.why_not;

  const fs::path dir = fs::temp_directory_path() / ("ortlm-rewrite-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(model->onnx_path().parent_path() / "model.onnx_data", dir / "model.onnx_data");
  graph.write_file(plan.edit, dir / "rewritten.onnx");
  EXPECT_LT(fs::file_size(dir / "rewritten.onnx"), fs::file_size(dir / "model.onnx_data"));
  EXPECT_EQ(graph::OnnxGraph::load(dir / "rewritten.onnx").summary().external_data_files,
            graph.summary().external_data_files);

  auto original = model::create_session(model->onnx_path(), {});
  auto rewritten = model::create_session(dir / "rewritten.onnx", {});
  EXPECT_LE(model::probe_difference(original, rewritten, layout), 1e-5);
  fs::remove(dir / "model.onnx_data");  // the weights are read from that file, not from the rewrite
  EXPECT_THROW(model::create_session(dir / "rewritten.onnx", {}), Error);
  fs::remove_all(dir);
}

TEST(AttentionFusion, InconsistentConfigIsRefused) {
  const auto model = Model::load(model_path("llama-optimum"), with_fusion(AttentionFusion::never));
  const auto graph = graph::OnnxGraph::load(model->onnx_path());
  const auto& layout = model->decoder().layout;
  graph::AttentionGeometry geometry{.num_heads = 3, .kv_heads = 2, .head_size = 16, .max_positions = 256};
  auto plan = model::plan_fusion(graph, layout, geometry, 17);
  EXPECT_EQ(plan.layers, 0u);
  EXPECT_NE(plan.why_not.find("inconsistent"), std::string::npos) << plan.why_not;
  geometry.num_heads = 4;
  geometry.plain_rope = false;
  EXPECT_NE(model::plan_fusion(graph, layout, geometry, 17).why_not.find("rope_scaling"), std::string::npos);
  geometry.plain_rope = true;
  EXPECT_NE(model::plan_fusion(graph, layout, geometry, 11).why_not.find("opset 11"), std::string::npos);
}

}  // namespace
}  // namespace ortlm
