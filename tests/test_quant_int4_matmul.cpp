// The load-time rewrite of 4-bit MatMulNBits into ortlm.Int4MatMul (src/graph/passes/int4_matmul) on the
// bundled model quantized by ortlm: which nodes it takes, that the rewritten graph computes what ONNX
// Runtime's MatMulNBits computes (float32 or int8 activations on both sides: the same to float rounding,
// A being quantized to int8 the same way), that a wrong rewrite is refused by the probe, and that the
// operator refuses weights that do not match its attributes, or are gone, with a message naming them. The
// kernels themselves are tested in test_model_int4_matmul.cpp; greedy ids against onnxruntime-node in
// test_quant_model.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <memory>

#include "graph/onnx_graph.hpp"
#include "graph/passes/int4_matmul.hpp"
#include "model/custom_ops.hpp"
#include "model/decoder.hpp"
#include "model/fused_session.hpp"
#include "model/int4_matmul_op.hpp"
#include "model/ort_session.hpp"
#include "model/paged_session.hpp"
#include "quant/model_folder.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {

namespace fs = std::filesystem;

// The bundled model at 4 bits, block 32 (asymmetric: zero points) or 16 (symmetric: none).
fs::path quantized_bundled(int block, bool symmetric) {
  const fs::path out = fs::path(::testing::TempDir()) /
                       ("ortlm_int4_" + std::to_string(block) + (symmetric ? "_symmetric" : "_asymmetric"));
  if (fs::exists(out / "onnx" / "model_q4.onnx")) return out;
  fs::remove_all(out);
  quant::QuantizeOptions options;
  options.format = {.bits = 4, .block_size = block, .symmetric = symmetric};
  options.lm_head = true;
  quant::quantize_folder(test::bundled_model(), out, options);
  return out;
}

class Int4MatMulRewrite : public ::testing::TestWithParam<std::pair<int, bool>> {};

TEST_P(Int4MatMulRewrite, ComputesWhatMatMulNBitsComputes) {
  const auto [block, symmetric] = GetParam();
  const fs::path folder = quantized_bundled(block, symmetric);
  const auto graph = graph::OnnxGraph::load(folder / "onnx" / "model_q4.onnx");
  const auto plan = graph::plan_int4_matmuls(graph);
  // Per layer the stacked q/k/v, o and stacked gate/up (K = 64); not down (K = 172 is not a multiple of
  // the block); and the LM head.
  ASSERT_EQ(plan.matmuls, 16u) << plan.why_not;
  size_t rewritten = 0;
  for (const auto& node : plan.edit.added) {
    ASSERT_TRUE(node.is("Int4MatMul", "ortlm"));
    EXPECT_EQ(*node.attribute("K")->i, 64);
    EXPECT_EQ(*node.attribute("block_size")->i, block);
    ASSERT_EQ(node.inputs.size(), 1u);  // the weights are held by ortlm, named by handle
    const auto weights = graph::find_int4_weights(*node.attribute("weights")->i);
    ASSERT_NE(weights, nullptr);
    EXPECT_EQ(weights->zero_points.empty(), symmetric);
    ++rewritten;
  }
  EXPECT_EQ(rewritten, plan.matmuls);
  EXPECT_EQ(plan.edit.held.size(), plan.matmuls);                // no two nodes read the same weights here
  EXPECT_EQ(graph.node_count(plan.edit), graph.nodes().size());  // one for one
  // The replaced weights are dropped, the down projections' kept.
  EXPECT_EQ(plan.edit.removed_initializers.size(), plan.matmuls * (symmetric ? 2u : 3u));

  const auto model = Model::load(folder);
  const auto& layout = model->decoder_as_loaded().layout;
  auto exported = model::create_session(model->onnx_path(), {});
  // Float32 activations on both sides: the same products, summed in another order.
  auto reference = model::create_session_from_bytes(graph.serialize(model::float_activation_matmuls(graph)),
                                                    graph.path(), {});
  auto candidate =
      model::create_session_from_bytes(graph.serialize(model::with_float_activations(graph, plan.edit)),
                                       graph.path(), {}, model::add_ortlm_ops);
  EXPECT_LE(model::probe_difference(reference, candidate, layout), 1e-5);
  // int8 activations on both sides: the operator quantizes A the way MLAS does (max |a| / 127, round
  // half to even), so the logits agree to float rounding (7e-7 here); a wrong layout moves them by
  // their own size.
  auto int8 =
      model::create_session_from_bytes(graph.serialize(plan.edit), graph.path(), {}, model::add_ortlm_ops);
  EXPECT_LE(model::probe_difference(exported, int8, layout), 1e-4);

  if (!model::int4_matmul_available()) GTEST_SKIP() << "no AVX-512 VNNI: the model loads without the rewrite";
  EXPECT_NE(model->describe().find("matmuls:       16 4-bit MatMulNBits read 16 columns at a time"),
            std::string::npos)
      << model->describe();
  const auto paged = model::make_paged_session(*model);
  EXPECT_NE(paged.note.find("; 16 ortlm.Int4MatMul"), std::string::npos) << paged.note;
}

INSTANTIATE_TEST_SUITE_P(Formats, Int4MatMulRewrite,
                         ::testing::Values(std::pair{32, false}, std::pair{16, true}), [](const auto& info) {
                           return "block" + std::to_string(info.param.first) +
                                  (info.param.second ? "_symmetric" : "_asymmetric");
                         });

TEST(Int4MatMulRewrite, WrongWeightsAreRefusedByTheProbe) {
  const fs::path folder = quantized_bundled(32, false);
  const auto graph = graph::OnnxGraph::load(folder / "onnx" / "model_q4.onnx");
  const auto plan = graph::plan_int4_matmuls(graph);
  ASSERT_GT(plan.matmuls, 0u);
  const auto model = Model::load(folder, [] {
    SessionOptions off;
    off.attention_fusion = AttentionFusion::never;
    return off;
  }());
  const auto& layout = model->decoder_as_loaded().layout;
  auto exported = model::create_session(model->onnx_path(), {});
  std::string why_not;
  ASSERT_TRUE(model::verified_session(graph, plan.edit, exported, layout, {}, why_not).has_value())
      << why_not;

  // The first node's zero points taken from the second block on: the levels are read against the
  // wrong zero points.
  auto wrong = plan.edit;
  auto& handle = *std::find_if(wrong.added[0].attributes.begin(), wrong.added[0].attributes.end(),
                               [](const auto& a) { return a.name == "weights"; });
  const auto weights = graph::find_int4_weights(*handle.i);
  ASSERT_NE(weights, nullptr);
  auto shifted = std::make_shared<graph::Int4Weights>(*weights);
  ASSERT_GT(shifted->zero_points.size(), 16u);
  std::rotate(shifted->zero_points.begin(), shifted->zero_points.begin() + 16, shifted->zero_points.end());
  handle.i = graph::register_int4_weights(shifted);
  wrong.held.push_back(shifted);
  EXPECT_FALSE(model::verified_session(graph, wrong, exported, layout, {}, why_not).has_value());
  EXPECT_NE(why_not.find("differ"), std::string::npos) << why_not;

  // Weights of another shape than the node says, and weights that are gone: the session is refused
  // with the operator's message.
  auto misshapen = std::make_shared<graph::Int4Weights>(*weights);
  misshapen->n += 1;
  handle.i = graph::register_int4_weights(misshapen);
  wrong.held.push_back(misshapen);
  EXPECT_FALSE(model::verified_session(graph, wrong, exported, layout, {}, why_not).has_value());
  EXPECT_NE(why_not.find("Int4MatMul: the weights under handle " + std::to_string(*handle.i) + " are K " +
                         std::to_string(weights->k) + ", N " + std::to_string(weights->n + 1) +
                         ", block 32; " + "the node says K " + std::to_string(weights->k) + ", N " +
                         std::to_string(weights->n) + ", block 32"),
            std::string::npos)
      << why_not;
  handle.i =
      graph::register_int4_weights(std::make_shared<graph::Int4Weights>(*weights));  // released at once
  EXPECT_FALSE(model::verified_session(graph, wrong, exported, layout, {}, why_not).has_value());
  EXPECT_NE(why_not.find("Int4MatMul: no weights under handle " + std::to_string(*handle.i)),
            std::string::npos)
      << why_not;
}

TEST(Int4MatMulRewrite, OtherMatMulsAreLeftAlone) {
  // A float model has none; an 8-bit one is not 4-bit.
  EXPECT_EQ(
      graph::plan_int4_matmuls(graph::OnnxGraph::load(test::bundled_model() / "onnx" / "model.onnx")).why_not,
      "no 4-bit MatMulNBits with int8 compute (accuracy_level 4) and constant weights");
  const fs::path out = fs::path(::testing::TempDir()) / "ortlm_int4_q8";
  fs::remove_all(out);
  quant::QuantizeOptions options;
  options.format = {.bits = 8, .block_size = 32, .symmetric = false};
  const auto q = quant::quantize_folder(test::bundled_model(), out, options);
  EXPECT_EQ(graph::plan_int4_matmuls(graph::OnnxGraph::load(q.onnx)).matmuls, 0u);
}

}  // namespace
}  // namespace ortlm
