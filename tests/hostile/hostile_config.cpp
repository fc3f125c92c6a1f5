// Hostile config files: absurd or mistyped values in config.json / genai_config.json, and JSON
// nested a million levels deep, through `ortlm info` and `ortlm generate`. Each must end in a clean
// error naming the file and key, or (for large but valid values) in a correct run whose memory
// stays under the harness's 4 GiB limit.
#include "hostile/hostile_support.hpp"

namespace ortlm::hostile {
namespace {

// The bundled model with config.json's `key` set to `value`.
fs::path with_config_value(const std::string& name, const std::string& key, const nlohmann::json& value) {
  const fs::path dir = copy_of_bundled_model(name);
  auto config = read_json(dir / "config.json");
  config[key] = value;
  write_json(dir / "config.json", config);
  return dir;
}

void expect_info_and_generate_fail(const fs::path& dir, const std::string& needle) {
  expect_clean_error(run_ortlm({"info", dir.string()}), needle);
  expect_clean_error(run_ortlm({"generate", dir.string(), "-p", "hi", "-n", "2"}), needle);
}

TEST(HostileConfig, TenMillionPositionsRunWithBoundedMemory) {
  // Valid (Llama 4 declares 10,485,760) but far beyond the rotary tables the rewrite builds: the
  // exported graph is kept and nothing is sized by the context.
  const fs::path dir = with_config_value("context-10m", "max_position_embeddings", 10'000'000);
  const auto info = run_ortlm({"info", dir.string()});
  expect_success(info);
  EXPECT_NE(info.out.find("10000000"), std::string::npos) << describe(info);
  const auto generated = run_ortlm({"generate", dir.string(), "-p", "hi", "-n", "2"});
  expect_success(generated);
  const auto fused = run_ortlm({"generate", dir.string(), "-p", "hi", "-n", "2", "--fusion", "on"});
  expect_success(fused);
}

TEST(HostileConfig, TwoBillionPositionsAreRefusedWithTheKey) {
  const fs::path dir = with_config_value("context-2g", "max_position_embeddings", 2'000'000'000);
  expect_info_and_generate_fail(
      dir, "config.json: max_position_embeddings 2000000000 is out of range (1..16777216)");
}

TEST(HostileConfig, NegativeContextIsRefused) {
  const fs::path dir = with_config_value("context-negative", "max_position_embeddings", -1);
  expect_info_and_generate_fail(dir, "config.json: max_position_embeddings -1 is out of range");
}

TEST(HostileConfig, StringContextNamesTheKey) {
  const fs::path dir = with_config_value("context-string", "max_position_embeddings", "2048");
  expect_info_and_generate_fail(dir,
                                "config.json: max_position_embeddings: expected an integer, got a string");
}

TEST(HostileConfig, OtherKeysAreRangeChecked) {
  expect_info_and_generate_fail(with_config_value("layers-huge", "num_hidden_layers", 1'000'000'000),
                                "config.json: num_hidden_layers 1000000000 is out of range (1..4096)");
  expect_info_and_generate_fail(with_config_value("vocab-float", "vocab_size", 32000.5),
                                "config.json: vocab_size: expected an integer, got a fractional number");
  expect_info_and_generate_fail(with_config_value("eos-object", "eos_token_id", nlohmann::json::object()),
                                "config.json: eos_token_id: expected an integer, got an object");
  expect_info_and_generate_fail(with_config_value("theta-string", "rope_theta", "10000"),
                                "config.json: rope_theta: expected a number, got a string");
}

TEST(HostileConfig, MillionDeepJsonIsRefusedQuickly) {
  const fs::path dir = copy_of_bundled_model("deep-json");
  write_file(dir / "config.json", std::string(1'000'000, '['));
  const auto outcome = run_ortlm({"info", dir.string()}, {.timeout_seconds = 20});
  expect_clean_error(outcome, "config.json: JSON nested deeper than 256 levels at byte 257");
  EXPECT_LT(outcome.seconds, 10.0);
  write_file(dir / "config.json", "{\"a\":" + std::string(1'000'000, '{'));
  expect_clean_error(run_ortlm({"generate", dir.string(), "-p", "hi", "-n", "2"}, {.timeout_seconds = 20}),
                     "nested deeper than 256 levels");
}

TEST(HostileConfig, ConfigThatIsNotAnObjectIsNamed) {
  const fs::path dir = copy_of_bundled_model("config-array");
  write_file(dir / "config.json", "[1, 2, 3]");
  expect_info_and_generate_fail(dir, "config.json: the document: expected an object, got an array");
}

TEST(HostileConfig, GenAiConfigFieldsAreChecked) {
  const fs::path shared = test::shared_models() / "tiny-random-gpt2-fp32";
  if (!fs::exists(shared)) GTEST_SKIP() << shared << " is missing";
  const fs::path dir = scratch_dir("genai");
  for (const auto& entry : fs::directory_iterator(shared))
    fs::copy_file(entry.path(), dir / entry.path().filename());
  auto genai = read_json(dir / "genai_config.json");
  genai["model"]["decoder"]["num_key_value_heads"] = "two";
  write_json(dir / "genai_config.json", genai);
  expect_clean_error(
      run_ortlm({"info", dir.string()}),
      "genai_config.json: model.decoder.num_key_value_heads: expected an integer, got a string");
  genai = read_json(shared / "genai_config.json");
  genai["model"]["decoder"]["filename"] = "../../../etc/passwd";
  write_json(dir / "genai_config.json", genai);
  expect_clean_error(run_ortlm({"info", dir.string()}),
                     "model.decoder.filename '../../../etc/passwd' leaves the model folder");
}

}  // namespace
}  // namespace ortlm::hostile
