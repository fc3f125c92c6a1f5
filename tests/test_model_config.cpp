// Config files: every value read is type- and range-checked with the file and key named, JSON
// nesting is bounded, sizes derived from config values cannot overflow or grow without bound.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>

#include "model/model_config.hpp"
#include "model/padded_kv_cache.hpp"
#include "ortlm/error.hpp"
#include "ortlm/model.hpp"
#include "test_support.hpp"
#include "util/file.hpp"

namespace ortlm::model {
namespace {
namespace fs = std::filesystem;

ConfigTexts texts_with(std::optional<std::string> ConfigTexts::*file, std::string text) {
  ConfigTexts texts;
  texts.*file = std::move(text);
  return texts;
}

std::string error_of(const ConfigTexts& texts) {
  return test::error_message([&] { parse_model_config(texts, "m"); });
}

std::string config_error(const std::string& config_json) {
  return error_of(texts_with(&ConfigTexts::config, config_json));
}

TEST(ModelConfig, TypeErrorsNameFileAndKey) {
  EXPECT_EQ(config_error(R"({"max_position_embeddings": "2048"})"),
            "m/config.json: max_position_embeddings: expected an integer, got a string");
  EXPECT_EQ(config_error(R"({"vocab_size": 2.5})"),
            "m/config.json: vocab_size: expected an integer, got a fractional number (2.5)");
  EXPECT_EQ(config_error(R"({"num_hidden_layers": [2]})"),
            "m/config.json: num_hidden_layers: expected an integer, got an array");
  EXPECT_EQ(config_error(R"({"model_type": 3})"),
            "m/config.json: model_type: expected a string, got an integer");
  EXPECT_EQ(config_error(R"({"rope_theta": "1e4"})"),
            "m/config.json: rope_theta: expected a number, got a string");
  EXPECT_EQ(config_error(R"({"text_config": {"num_attention_heads": {}}})"),
            "m/config.json: text_config.num_attention_heads: expected an integer, got an object");
  EXPECT_EQ(config_error(R"({"eos_token_id": [2, "x"]})"),
            "m/config.json: eos_token_id[1]: expected an integer, got a string");
  EXPECT_EQ(config_error(R"({"rope_scaling": {"rope_type": 1}})"),
            "m/config.json: rope_scaling.rope_type: expected a string, got an integer");
  EXPECT_EQ(config_error("[1, 2]"), "m/config.json: the document: expected an object, got an array");
  EXPECT_EQ(error_of(texts_with(&ConfigTexts::tokenizer_config, R"({"add_bos_token": "yes"})")),
            "m/tokenizer_config.json: add_bos_token: expected true or false, got a string");
  EXPECT_EQ(error_of(texts_with(&ConfigTexts::generation_config, R"({"bos_token_id": true})")),
            "m/generation_config.json: bos_token_id: expected an integer, got a boolean");
}

TEST(ModelConfig, AbsurdValuesAreRefusedWithTheRange) {
  EXPECT_EQ(config_error(R"({"max_position_embeddings": 2000000000})"),
            "m/config.json: max_position_embeddings 2000000000 is out of range (1..16777216)");
  EXPECT_EQ(config_error(R"({"max_position_embeddings": -1})"),
            "m/config.json: max_position_embeddings -1 is out of range (1..16777216)");
  EXPECT_EQ(config_error(R"({"n_positions": 18446744073709551615})"),
            "m/config.json: n_positions 18446744073709551615 is out of range (1..16777216)");
  EXPECT_EQ(config_error(R"({"vocab_size": 0})"),
            "m/config.json: vocab_size 0 is out of range (1..16777216)");
  EXPECT_EQ(config_error(R"({"num_hidden_layers": 100000})"),
            "m/config.json: num_hidden_layers 100000 is out of range (1..4096)");
  EXPECT_EQ(config_error(R"({"head_dim": 1e9})"),
            "m/config.json: head_dim 1000000000.0 is out of range (1..16384)");
  EXPECT_EQ(config_error(R"({"eos_token_id": -5})"),
            "m/config.json: eos_token_id -5 is out of range (-1..16777215)");
  EXPECT_EQ(config_error(R"({"rope_theta": -1})"),
            "m/config.json: rope_theta -1 is out of range (0.000001..1000000000000000)");
  EXPECT_EQ(config_error(R"({"partial_rotary_factor": 2})"),
            "m/config.json: partial_rotary_factor 2 is out of range (0..1)");
}

TEST(ModelConfig, PlausibleValuesAreRead) {
  const auto files = parse_model_config(
      texts_with(&ConfigTexts::config,
                 R"({"max_position_embeddings": 10485760, "vocab_size": 2048.0, "num_attention_heads": 8,
                     "hidden_size": 64, "pad_token_id": -1, "bos_token_id": null, "eos_token_id": [2, -1, 3],
                     "head_dim": null, "rope_scaling": null})"),
      "m");
  EXPECT_EQ(files.config.context_length, 10485760);  // Llama 4 Scout's context
  EXPECT_EQ(files.config.vocab_size, 2048);
  EXPECT_EQ(files.config.head_size, 8);
  EXPECT_FALSE(files.config.pad_token_id);  // -1: none
  EXPECT_FALSE(files.config.bos_token_id);
  EXPECT_EQ(files.config.eos_token_ids, (std::vector<int32_t>{2, 3}));
}

TEST(ModelConfig, GenAiNestedFieldsAreChecked) {
  EXPECT_EQ(error_of(texts_with(&ConfigTexts::genai_config,
                                R"({"model": {"decoder": {"num_hidden_layers": "4"}}})")),
            "m/genai_config.json: model.decoder.num_hidden_layers: expected an integer, got a string");
  EXPECT_EQ(
      error_of(texts_with(&ConfigTexts::genai_config, R"({"model": {"context_length": 0, "decoder": {}}})")),
      "m/genai_config.json: model.context_length 0 is out of range (1..16777216)");
  EXPECT_EQ(error_of(texts_with(&ConfigTexts::genai_config,
                                R"({"model": {"decoder": {"inputs": {"input_ids": 5}}}})")),
            "m/genai_config.json: model.decoder.inputs.input_ids: expected a string, got an integer");
  EXPECT_EQ(error_of(texts_with(&ConfigTexts::genai_config, R"({"model": {"decoder": []}})")),
            "m/genai_config.json: model.decoder: expected an object, got an array");
  EXPECT_EQ(error_of(texts_with(&ConfigTexts::genai_config, R"({"model": 1})")),
            "m/genai_config.json: model: expected an object, got an integer");
}

TEST(ModelConfig, GenAiDecoderFileStaysInTheFolder) {
  const fs::path dir = fs::temp_directory_path() / ("ortlm-genai-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  for (const auto& [filename, needle] :
       {std::pair{R"("../model.onnx")", "'../model.onnx' leaves the model folder"},
        {R"("/etc/passwd")", "'/etc/passwd' leaves the model folder"},
        {"7", "model.decoder.filename: expected a string, got an integer"},
        {R"("")", "model.decoder.filename is missing"}}) {
    std::ofstream(dir / "genai_config.json") << R"({"model": {"decoder": {"filename": )" << filename << "}}}";
    try {
      genai_decoder_file(dir / "genai_config.json");
      ADD_FAILURE() << filename;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
  fs::remove_all(dir);
}

TEST(JsonDepth, DeepDocumentIsRefusedQuicklyWithTheByte) {
  const auto start = std::chrono::steady_clock::now();
  const std::string deep(1'000'000, '[');
  try {
    util::parse_json(deep, "deep.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "deep.json: JSON nested deeper than 256 levels at byte 257");
  }
  EXPECT_THROW(util::parse_ordered_json(std::string(300, '{'), "x"), Error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  // Brackets inside strings are text; 256 levels are fine.
  EXPECT_NO_THROW(util::parse_json(std::string(256, '[') + std::string(256, ']'), "ok"));
  EXPECT_NO_THROW(util::parse_json(R"(["[[[[\"[[[[", "\\"])" + std::string(1000, ' '), "ok"));
}

TEST(JsonNumbers, OverflowingNumberIsAnErrorNamingTheOrigin) {
  // Found by fuzz/model_config_fuzz: nlohmann reports it as out_of_range, not parse_error.
  try {
    util::parse_json(R"({"vocab_size": 9999E999})", "config.json");
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("config.json: invalid JSON: "), std::string::npos) << e.what();
  }
  EXPECT_THROW(util::parse_ordered_json("-1e400", "x"), Error);
}

TEST(KvCacheSize, OverflowingShapeIsRefused) {
  IoLayout layout;
  layout.kv.resize(2);
  layout.kv_heads = int64_t{1} << 40;
  layout.head_size = int64_t{1} << 30;
  PaddedKvCache cache(layout);
  try {
    cache.reset(3, int64_t{1} << 20);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "the KV cache for 3 rows of 1048576 tokens (2 layers x 1099511627776 heads x "
                  "1073741824 head size) does not fit in memory"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(cache.capacity(), 0);
}

// The rotary tables the attention rewrite builds are sized by the context length: a huge (but
// valid) context keeps the exported graph instead of allocating gigabytes.
TEST(ModelConfig, HugeContextDoesNotSizeTheRotaryTables) {
  const fs::path dir = fs::temp_directory_path() / ("ortlm-huge-context-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::copy(test::bundled_model(), dir, fs::copy_options::recursive);
  auto config = util::read_json_file(dir / "config.json");
  config["max_position_embeddings"] = 10'000'000;
  std::ofstream(dir / "config.json") << config.dump();
  SessionOptions options;
  options.attention_fusion = AttentionFusion::always;
  const auto model = Model::load(dir, options);
  EXPECT_EQ(model->config().context_length, 10'000'000);
  EXPECT_NE(
      model->attention_fusion_note().find("not fused: rotary tables for a context of 10000000 positions"),
      std::string::npos)
      << model->attention_fusion_note();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ortlm::model
