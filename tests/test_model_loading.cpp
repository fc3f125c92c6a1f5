// Loading: layouts are detected, facts read from the configs, and bad files refused by name.
#include <gtest/gtest.h>

#include <fstream>

#include "model/decoder.hpp"
#include "ortlm/error.hpp"
#include "ortlm/model.hpp"
#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm {
namespace {
namespace fs = std::filesystem;

// Expects Model::load(path) to throw an ortlm::Error whose message contains every `needle`.
void expect_load_error(const fs::path& path, std::initializer_list<std::string> needles) {
  try {
    Model::load(path);
    FAIL() << "loading " << path << " should fail";
  } catch (const Error& e) {
    for (const auto& needle : needles)
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << "message: " << e.what();
  }
}

fs::path temp_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("ortlm-test-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

TEST(ModelLoading, BundledModelFacts) {
  const auto model = Model::load(test::bundled_model());
  const ModelConfig& c = model->config();
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.num_layers, 5);
  EXPECT_EQ(c.num_kv_heads, 4);
  EXPECT_EQ(c.head_size, 8);
  EXPECT_EQ(c.context_length, 512);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{1, 2}));  // generation_config.json wins over config.json
  ASSERT_NE(model->tokenizer(), nullptr);
  EXPECT_EQ(model->onnx_path().filename(), "model.onnx");
  EXPECT_NE(model->describe().find("past_key_values.4.value"), std::string::npos);
}

TEST(ModelLoading, GenAiGpt2CombinedKvInt32Ids) {
  const fs::path path = test::shared_models() / "tiny-random-gpt2-fp32";
  if (!fs::exists(path)) GTEST_SKIP() << path << " is missing";
  const auto model = Model::load(path);
  const auto& layout = model->decoder().layout;
  EXPECT_EQ(layout.kv_layout, model::KvLayout::combined);
  EXPECT_EQ(layout.input_ids.type, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32);
  EXPECT_EQ(model->config().num_layers, 5);
  EXPECT_EQ(model->config().context_length, 512);
  EXPECT_EQ(model->config().eos_token_ids, (std::vector<int32_t>{98}));
  const auto text = model->describe();
  for (const char* needle : {"combined KV", "past_4", "present_0", "int32", "genai_config.json", "past.onnx"})
    EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
}

TEST(ModelLoading, DetectsEachGeneratedLayout) {
  struct Expect {
    const char* name;
    const char* description;
    ONNXTensorElementDataType kv_type;
  };
  for (const Expect& e : {Expect{"llama-optimum", "optimum", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT},
                          Expect{"llama-optimum-fp16", "optimum", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16},
                          Expect{"llama-merged", "use_cache_branch", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT},
                          Expect{"genai-gqa", "optimum", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT},
                          Expect{"gpt2-optimum", "optimum", ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT}}) {
    const auto model = Model::load(test::test_models() / e.name);
    EXPECT_NE(model->decoder().layout.description.find(e.description), std::string::npos) << e.name;
    EXPECT_EQ(model->decoder().layout.kv_type, e.kv_type) << e.name;
  }
  EXPECT_NE(
      Model::load(test::test_models() / "genai-gqa")->describe().find("com.microsoft:GroupQueryAttention"),
      std::string::npos);
  EXPECT_FALSE(Model::load(test::test_models() / "llama-no-position-ids")->decoder().layout.position_ids);
}

TEST(ModelLoading, MissingPath) {
  expect_load_error("/nonexistent/model", {"/nonexistent/model", "no such"});
}

TEST(ModelLoading, FolderWithoutOnnx) {
  const auto dir = temp_dir("empty");
  expect_load_error(dir, {dir.string(), "no .onnx model found"});
}

TEST(ModelLoading, NonOnnxFile) {
  const auto dir = temp_dir("text");
  std::ofstream(dir / "model.onnx") << "this is not a protobuf, just some text that happens to be here\n";
  expect_load_error(dir / "model.onnx", {"model.onnx", "not a valid ONNX model"});
}

TEST(ModelLoading, TruncatedOnnx) {
  const auto dir = temp_dir("truncated");
  const std::string bytes = util::read_file(test::bundled_model() / "onnx" / "model.onnx");
  std::ofstream(dir / "model.onnx", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  fs::copy_file(test::bundled_model() / "config.json", dir / "config.json");
  expect_load_error(dir / "model.onnx", {"model.onnx", "not a valid ONNX model", "byte"});
}

TEST(ModelLoading, MissingExternalData) {
  const auto dir = temp_dir("external");
  fs::copy(test::test_models() / "llama-optimum-external", dir, fs::copy_options::recursive);
  fs::remove(dir / "onnx" / "model.onnx_data");
  expect_load_error(dir, {"model.onnx_data", "missing"});
}

TEST(ModelLoading, UnknownInputIsNamed) {
  expect_load_error(test::test_models() / "bad-unknown-input",
                    {"input 'token_type_hint'", "not one ortlm knows"});
}

TEST(ModelLoading, MalformedConfigJson) {
  const auto dir = temp_dir("badjson");
  fs::copy(test::bundled_model(), dir, fs::copy_options::recursive);
  std::ofstream(dir / "config.json") << "{\"vocab_size\": 512,, }";
  expect_load_error(dir, {"config.json", "invalid JSON at byte"});
}

TEST(ModelLoading, UnknownProviderIsNamed) {
  SessionOptions options;
  options.provider = "cuda";
  try {
    Model::load(test::bundled_model(), options);
    SUCCEED() << "this ONNX Runtime build has CUDA";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDAExecutionProvider"), std::string::npos) << e.what();
  }
  options.provider = "warp-drive";
  EXPECT_THROW(Model::load(test::bundled_model(), options), Error);
}

}  // namespace
}  // namespace ortlm
