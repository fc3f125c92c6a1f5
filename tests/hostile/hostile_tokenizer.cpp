// Hostile tokenizer.json files in a model folder, through `ortlm tokenize`: a huge or negative id,
// chained Replace stages that blow "a" up to gigabytes, Sequences and JSON nested without end, a
// regex that backtracks without end. Each must end in a clean error naming tokenizer.json and the
// field, well within the harness's 4 GiB and its timeout.
#include <string>

#include "hostile/hostile_support.hpp"

namespace ortlm::hostile {
namespace {

// The bundled model whose tokenizer.json is `edit`ed (a JSON value) and written back as text, in
// which a "@@RAW@@" string is then replaced by `raw` (JSON too deep to build as a value).
template <class Edit>
fs::path with_tokenizer(const std::string& name, Edit&& edit, const std::string& raw = "") {
  const fs::path dir = copy_of_bundled_model(name);
  auto tokenizer = read_json(dir / "tokenizer.json");
  edit(tokenizer);
  std::string text = tokenizer.dump();
  if (const size_t at = text.find("\"@@RAW@@\""); at != std::string::npos) text.replace(at, 9, raw);
  write_file(dir / "tokenizer.json", text);
  return dir;
}

Outcome tokenize(const fs::path& dir, const std::string& input, bool decode = false) {
  std::vector<std::string> args = {"tokenize", dir.string()};
  if (decode) args.push_back("--decode");
  return run_ortlm(args, {.stdin_data = input});
}

// A Replace stage turning every "a" into 1,000 a's.
nlohmann::json blow_up() {
  return {{"type", "Replace"}, {"pattern", {{"String", "a"}}}, {"content", std::string(1000, 'a')}};
}

nlohmann::json five_blow_ups(const std::string& list_key) {
  return {{"type", "Sequence"},
          {list_key, nlohmann::json::array({blow_up(), blow_up(), blow_up(), blow_up(), blow_up()})}};
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += s;
  return out;
}

TEST(HostileTokenizer, HugeVocabIdIsRefused) {
  const auto dir =
      with_tokenizer("vocab-id-2g", [](nlohmann::json& t) { t["model"]["vocab"]["a"] = 2'000'000'000; });
  expect_clean_error(tokenize(dir, "a\n"),
                     "tokenizer.json: model.vocab.a: id 2000000000 is beyond what the file describes");
}

TEST(HostileTokenizer, NegativeAddedTokenIdIsRefused) {
  const auto dir =
      with_tokenizer("added-id-negative", [](nlohmann::json& t) { t["added_tokens"][0]["id"] = -1; });
  expect_clean_error(tokenize(dir, "a\n"), "tokenizer.json: added_tokens[0].id: id -1 is out of range");
}

TEST(HostileTokenizer, ChainedReplaceNormalizersAreStopped) {
  const auto dir = with_tokenizer("replace-normalizers",
                                  [](nlohmann::json& t) { t["normalizer"] = five_blow_ups("normalizers"); });
  expect_clean_error(
      tokenize(dir, "a\n"),
      "tokenizer.json: normalizer.normalizers[1] (Replace): normalization grew the input from 2 to");
  // 256 KiB of input is stopped in the first stage, before it is 256 MiB.
  expect_clean_error(tokenize(dir, std::string(1 << 18, 'a')),
                     "tokenizer.json: normalizer.normalizers[0] (Replace): normalization grew the input");
}

TEST(HostileTokenizer, ChainedReplaceDecodersAreStopped) {
  const auto dir =
      with_tokenizer("replace-decoders", [](nlohmann::json& t) { t["decoder"] = five_blow_ups("decoders"); });
  const int a = read_json(dir / "tokenizer.json")["model"]["vocab"]["a"].get<int>();
  expect_clean_error(tokenize(dir, std::to_string(a) + "\n", true),
                     "tokenizer.json: decoder.decoders[1] (Replace): decoding grew the input");
}

TEST(HostileTokenizer, DeeplyNestedSequencesAreRefused) {
  for (size_t depth : {40u, 20'000u, 200'000u}) {
    const std::string nested = repeat(R"({"type": "Sequence", "normalizers": [)", depth) +
                               R"({"type": "NFC"})" + repeat("]}", depth);
    const auto dir = with_tokenizer(
        "nested-" + std::to_string(depth), [](nlohmann::json& t) { t["normalizer"] = "@@RAW@@"; }, nested);
    expect_clean_error(tokenize(dir, "a\n"), depth == 40
                                                 ? "normalizer Sequence nested deeper than 32 levels"
                                                 : "tokenizer.json: JSON nested deeper than 128 levels");
  }
}

TEST(HostileTokenizer, JsonNestedAMillionDeepIsRefused) {
  const fs::path dir = copy_of_bundled_model("json-1m-deep");
  write_file(dir / "tokenizer.json", std::string(1'000'000, '['));
  expect_clean_error(tokenize(dir, "a\n"), "tokenizer.json: JSON nested deeper than 128 levels");
}

TEST(HostileTokenizer, BacktrackingRegexNamesTheLimit) {
  const auto dir = with_tokenizer("regex-backtracking", [](nlohmann::json& t) {
    t["pre_tokenizer"] = {
        {"type", "Split"}, {"pattern", {{"Regex", "(\\w+\\s?)*$"}}}, {"behavior", "Isolated"}};
  });
  expect_clean_error(tokenize(dir, std::string(64, 'a') + "!"),
                     "tokenizer.json: pre_tokenizer.pattern: regex \"(\\w+\\s?)*$\": PCRE2 match limit");
}

}  // namespace
}  // namespace ortlm::hostile
