// The quantization pass on real models (src/quant): the bundled model (real weights) quantized to 4
// and 8 bits runs in ortlm and in onnxruntime-node (an independent runtime) with the same greedy
// ids; the written initializers unpack (tests/nbits_unpack.hpp) to the original weights within the
// format's error; external data is rewritten beside the output; bad inputs fail with clear errors
// or leave the node with a note.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "graph/onnx_graph.hpp"
#include "greedy_oracles.hpp"
#include "model/paged_session.hpp"
#include "nbits_unpack.hpp"
#include "ortlm/error.hpp"
#include "ortlm/generator.hpp"
#include "quant/model_folder.hpp"
#include "quant/report.hpp"
#include "test_support.hpp"

namespace ortlm::quant {
namespace {

namespace fs = std::filesystem;
using test::as_json;
using test::node_greedy;
using test::ortlm_greedy;

fs::path temp_folder(const std::string& name) {
  const fs::path dir = fs::path(::testing::TempDir()) / ("ortlm_quant_" + name);
  fs::remove_all(dir);
  return dir;
}

bool has_note(const QuantizeResult& r, const std::string& part) {
  return std::any_of(r.notes.begin(), r.notes.end(), [&](const auto& n) { return n.find(part) != n.npos; });
}

const graph::GraphNode* node_reading(const graph::OnnxGraph& g, const std::string& weight) {
  for (const auto& n : g.nodes())
    if (n.inputs.size() > 1 && n.inputs[1] == weight) return &n;
  return nullptr;
}

struct Format {
  int bits, block;
  bool symmetric;
  Method method;
};

class QuantizedBundledModel : public ::testing::TestWithParam<Format> {};

TEST_P(QuantizedBundledModel, RunsWithTheSameGreedyIdsAsOnnxRuntimeNode) {
  const Format f = GetParam();
  const fs::path out = temp_folder("bundled_" + std::to_string(f.bits) + "_" + std::to_string(f.block));
  QuantizeOptions options;
  options.format = {.bits = f.bits, .block_size = f.block, .symmetric = f.symmetric};
  options.method = f.method;
  options.lm_head = true;
  options.embeddings = true;
  const auto q = quantize_folder(test::bundled_model(), out, options);
  EXPECT_EQ(q.onnx, out / "onnx" / ("model_q" + std::to_string(f.bits) + ".onnx"));
  EXPECT_EQ(q.result.matmuls, 21u);  // 5 layers x (qkv, o, gate-up, down) + the LM head
  EXPECT_EQ(q.result.stacked, 25u);  // q, k, v and gate, up of each layer
  EXPECT_EQ(q.result.gathers, 1u);
  EXPECT_FALSE(q.result.external_data);
  EXPECT_TRUE(has_note(q.result, "transposed embedding"));           // stories260k stores lm_head = E^T
  EXPECT_TRUE(has_note(q.result, "is not a constant initializer"));  // attention's Q K^T and P V
  for (const char* file : {"config.json", "tokenizer.json", "generation_config.json"})
    EXPECT_TRUE(fs::exists(out / file)) << file;

  // The attention rewrite is probed with float32 activations, so int8 activations (accuracy_level 4)
  // do not hide whether it is right: the quantized model is rewritten like the float one.
  EXPECT_EQ(Model::load(out)->attention_fusion_note().rfind("fused in 5 layers", 0), 0u)
      << Model::load(out)->attention_fusion_note();
  const std::vector<int32_t> prompt{1, 403, 407};
  const auto ids = ortlm_greedy(out, prompt, 40);
  EXPECT_EQ(as_json(ids), node_greedy(q.onnx, "1,403,407", 40));
  // The load-time MLP rewrite reads the stacked gate/up projection whole (its Split dropped); the
  // greedy ids above ran on it.
  EXPECT_NE(
      Model::load(out)->describe().find("mlp:           5 silu(gate) * up fused (ortlm.SiluMul; 5 read the "
                                        "stacked gate/up projection)"),
      std::string::npos);
  // The paged rewrite takes the quantized LM head too (the hidden states are gathered before it), and
  // its attention reads the stacked q/k/v projection whole; its greedy ids are the same.
  const auto paged_note = model::make_paged_session(*Model::load(out)).note;
  EXPECT_EQ(paged_note.rfind("paged in 5 layers", 0), 0u) << paged_note;
  EXPECT_NE(paged_note.find("stacked q/k/v read whole"), std::string::npos) << paged_note;
  EXPECT_EQ(ortlm_greedy(out, prompt, 40, KvCacheKind::paged), ids);
  // Not the same as a random model: the quantized model still tells the bundled story's start.
  EXPECT_EQ(ids.front(), ortlm_greedy(test::bundled_model(), prompt, 1).front());

  // The written weights, read back and unpacked independently, are the original within the format.
  const auto original = graph::OnnxGraph::load(test::bundled_model() / "onnx" / "model.onnx");
  const auto quantized = graph::OnnxGraph::load(q.onnx);
  EXPECT_EQ(quantized.summary().operators.count("MatMul"), 1u);  // only attention's two per layer
  const auto* down = node_reading(quantized, "l0.down_proj_q" + std::to_string(f.bits));
  ASSERT_NE(down, nullptr);
  ASSERT_TRUE(down->is("MatMulNBits", "com.microsoft"));
  const int64_t K = *down->attribute("K")->i, N = *down->attribute("N")->i;
  EXPECT_EQ(K, 172);  // not a multiple of the block: the last block is padded
  EXPECT_EQ(N, 64);
  EXPECT_EQ(*down->attribute("bits")->i, f.bits);
  EXPECT_EQ(*down->attribute("block_size")->i, f.block);
  EXPECT_EQ(*down->attribute("accuracy_level")->i, 4);
  const auto b = quantized.tensor(down->inputs[1]);
  const auto scales = *quantized.tensor(down->inputs[2]).floats();
  const std::string_view zero_points = down->inputs.size() > 3 ? quantized.tensor(down->inputs[3]).raw : "";
  EXPECT_EQ(zero_points.empty(), f.symmetric);
  const int64_t blocks = (K + f.block - 1) / f.block;
  ASSERT_EQ(b.dims, (std::vector<int64_t>{N, blocks, f.block * f.bits / 8}));
  const auto values = test::unpack_blocks(b.raw, blocks * f.block * f.bits / 8, scales.data(), zero_points, N,
                                          K, f.bits, f.block);
  const auto w = *original.tensor("l0.down_proj").floats();  // [K, N]
  double error = 0, energy = 0;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t k = 0; k < K; ++k) {
      const double x = w[static_cast<size_t>(k * N + n)];
      const double d = x - values[static_cast<size_t>(n * K + k)];
      error += d * d;
      energy += x * x;
      // Any method's values stay within one step of the block's scale of the original.
      ASSERT_LE(std::fabs(d), std::fabs(scales[static_cast<size_t>(n * blocks + k / f.block)]) * 1.5 + 1e-7);
    }
  EXPECT_LT(error / energy, f.bits == 4 ? 0.02 : 1e-4);  // relative squared error of the layer

  const fs::path again = temp_folder("again_" + std::to_string(f.bits) + "_" + std::to_string(f.block));
  EXPECT_NE(test::error_message([&] {
              quantize_folder(out, again, options);
            }).find("already quantized (21 MatMulNBits nodes)"),
            std::string::npos);
  EXPECT_FALSE(fs::exists(again / "config.json"));  // refused before anything was written
}

INSTANTIATE_TEST_SUITE_P(Formats, QuantizedBundledModel,
                         ::testing::Values(Format{4, 32, false, Method::search},
                                           Format{4, 16, true, Method::rtn},
                                           Format{8, 64, false, Method::search}),
                         [](const auto& info) {
                           return "q" + std::to_string(info.param.bits) + "_block" +
                                  std::to_string(info.param.block);
                         });

TEST(QuantizeModel, ExternalDataIsRewrittenBesideTheOutput) {
  const fs::path in = test::test_models() / "llama-optimum-external";
  const fs::path out = temp_folder("external");
  QuantizeOptions options;
  const auto q = quantize_folder(in, out, options, "model_int4.onnx");
  EXPECT_TRUE(q.result.external_data);
  EXPECT_EQ(q.onnx, out / "onnx" / "model_int4.onnx");
  const auto g = graph::OnnxGraph::load(q.onnx);
  EXPECT_EQ(g.summary().external_data_files, std::set<std::string>{"model_int4.onnx_data"});
  EXPECT_TRUE(has_note(q.result, "LM head stays float32"));
  EXPECT_EQ(g.summary().operators.at("com.microsoft:MatMulNBits"), q.result.matmuls);
  EXPECT_EQ(as_json(ortlm_greedy(out, {1, 5, 9}, 12)), node_greedy(q.onnx, "1,5,9", 12));
}

TEST(QuantizeModel, BadInputsAreRefusedByName) {
  const fs::path model = test::bundled_model();
  QuantizeOptions options;
  options.format.bits = 3;
  EXPECT_EQ(test::error_message([&] { quantize_folder(model, temp_folder("bits"), options); }),
            "--bits must be 4 or 8, not 3");
  options.format = {.bits = 4, .block_size = 24};
  EXPECT_EQ(test::error_message([&] { quantize_folder(model, temp_folder("block"), options); }),
            "--block must be 16, 32, 64 or 128, not 24");
  options.format = {};
  options.exclude = {"*"};
  EXPECT_NE(test::error_message([&] {
              quantize_folder(model, temp_folder("none"), options);
            }).find("nothing to quantize"),
            std::string::npos);
  options.exclude = {};
  EXPECT_NE(
      test::error_message([&] { quantize_folder(model, model, options); }).find("the model's own folder"),
      std::string::npos);
  EXPECT_NE(test::error_message([&] {
              quantize_folder(model, temp_folder("name"), options, "../x.onnx");
            }).find("--name must be a file name"),
            std::string::npos);
}

// The report's measures on a pair whose answer is known: a model against itself agrees everywhere
// with zero divergence; against its 4-bit copy the divergence is positive and the agreement below 1.
TEST(QuantizeReport, ComparesNextTokenDistributions) {
  const fs::path text = test::source_dir() / "tests" / "data" / "eval_stories.txt";
  const ReportOptions options{.decode_tokens = 8, .max_text_tokens = 600};
  const auto same = compare_models(test::bundled_model(), test::bundled_model(), text, options);
  EXPECT_EQ(same.positions, 599u);  // every token but the first is predicted
  EXPECT_EQ(same.top1_agreement, 1.0);
  EXPECT_NEAR(same.mean_kl, 0.0, 1e-9);
  EXPECT_EQ(same.original.perplexity, same.quantized.perplexity);
  EXPECT_GT(same.original.perplexity, 1.0);
  EXPECT_LT(same.original.perplexity, 20.0);  // the bundled model knows simple stories

  const fs::path out = temp_folder("report");
  QuantizeOptions quantize;
  quantize.method = Method::rtn;
  quantize_folder(test::bundled_model(), out, quantize);
  const auto q = compare_models(test::bundled_model(), out, text, options);
  EXPECT_GT(q.mean_kl, 1e-4);
  EXPECT_LT(q.top1_agreement, 1.0);
  EXPECT_GT(q.top1_agreement, 0.5);
  EXPECT_LT(q.quantized.bytes, q.original.bytes / 2);
  EXPECT_NE(format_report(q).find("| quantized |"), std::string::npos);
}

// Stacking the projections that read the same input (q, k, v; gate, up) into one MatMulNBits and a
// Split leaves every row and block as it was, so the model computes what the separate one does.
TEST(QuantizeModel, StackedProjectionsComputeWhatSeparateOnesDo) {
  QuantizeOptions options;
  options.method = Method::rtn;
  options.format.symmetric = true;
  const auto stacked = quantize_folder(test::bundled_model(), temp_folder("stacked"), options);
  options.stack_projections = false;
  const auto separate = quantize_folder(test::bundled_model(), temp_folder("separate"), options);
  EXPECT_EQ(stacked.result.matmuls, 20u);
  EXPECT_EQ(separate.result.matmuls, 35u);
  EXPECT_EQ(separate.result.stacked, 0u);
  const auto g = graph::OnnxGraph::load(stacked.onnx);
  EXPECT_EQ(g.summary().operators.at("Split"), 10u);
  const auto* qkv = node_reading(g, "l0.v_proj_stacked_q4");
  ASSERT_NE(qkv, nullptr);
  EXPECT_EQ(*qkv->attribute("N")->i, 64 + 32 + 32);  // 8 query heads and 4 KV heads of 8
  const auto prompt = std::vector<int32_t>{1, 403, 407};
  EXPECT_EQ(ortlm_greedy(stacked.onnx.parent_path().parent_path(), prompt, 40),
            ortlm_greedy(separate.onnx.parent_path().parent_path(), prompt, 40));
}

TEST(QuantizeModel, ExcludedNodesStayFloat) {
  QuantizeOptions options;
  options.exclude = {"l0.*"};
  const auto q = quantize_folder(test::bundled_model(), temp_folder("exclude"), options);
  EXPECT_EQ(q.result.matmuls, 16u);  // layers 1-4, q-k-v and gate-up stacked; the LM head is kept by default
  EXPECT_TRUE(has_note(q.result, "excluded by --exclude"));
}

}  // namespace
}  // namespace ortlm::quant
