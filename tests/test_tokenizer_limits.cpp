// Hostile tokenizer.json files (a model folder downloaded from anywhere): huge or negative ids,
// normalizers / pre-tokenizers / decoders that blow the text up, Sequences and JSON nested without
// end, regexes that backtrack without end. Each must give an ortlm::Error naming the field and the
// limit, quickly and in bounded memory, while real-sized text still passes.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"
#include "test_support.hpp"

namespace {

using ortlm::Tokenizer;

template <class F>
std::string error_of(F&& f) {
  return ortlm::test::error_message(std::forward<F>(f));
}

// Peak resident memory of this process so far, in MiB.
long peak_rss_mib() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024;
}

// `expr` throws an ortlm::Error containing every one of `needles`, and the process never grew big.
#define EXPECT_BOUNDED_ERROR(expr, ...)                                                                 \
  do {                                                                                                  \
    std::string message = error_of([&] { (void)(expr); });                                              \
    for (std::string needle : {__VA_ARGS__})                                                            \
      EXPECT_NE(message.find(needle), std::string::npos) << "want: " << needle << "\ngot: " << message; \
    EXPECT_LT(peak_rss_mib(), 1024) << "peak resident memory";                                          \
  } while (0)

std::string repeat(std::string_view s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i) out.append(s);
  return out;
}

const std::string kWordLevel =
    R"("model": {"type": "WordLevel", "vocab": {"a": 0, "<unk>": 1}, "unk_token": "<unk>"})";

// A Replace stage turning every "a" into 1,000 a's.
const std::string kBlowUp =
    R"({"type": "Replace", "pattern": {"String": "a"}, "content": ")" + std::string(1000, 'a') + R"("})";

std::string five_blow_ups() {
  return kBlowUp + "," + kBlowUp + "," + kBlowUp + "," + kBlowUp + "," + kBlowUp;
}

// `leaf` wrapped in `depth` Sequences of kind `type_key` ("normalizers", ...).
std::string nested_sequence(const std::string& list_key, const std::string& leaf, size_t depth) {
  return repeat(R"({"type": "Sequence", ")" + list_key + R"(": [)", depth) + leaf + repeat("]}", depth);
}

TEST(TokenizerLimits, VocabIdBeyondTheFileIsRefused) {
  // 2 vocabulary entries: ids below 4 x 2 + 65536 = 65544.
  EXPECT_BOUNDED_ERROR(
      Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 2000000000}, "merges": []}})"),
      "tokenizer.json: model.vocab.b: id 2000000000 is beyond what the file describes", "65544");
  EXPECT_BOUNDED_ERROR(
      Tokenizer::from_json(R"({"model": {"type": "WordLevel", "vocab": {"a": 0, "b": 65544}}})", "my.json"),
      "my.json: model.vocab.b: id 65544 is beyond");
  // The largest id allowed loads (a vocabulary with a hole, as some real ones have).
  Tokenizer t = Tokenizer::from_json(R"({"model": {"type": "WordLevel", "vocab": {"a": 0, "b": 65543}}})");
  EXPECT_EQ(t.token_to_id("b"), 65543);
}

TEST(TokenizerLimits, AddedTokenAndPostProcessorIdsAreBounded) {
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json("{" + kWordLevel + R"(,
      "added_tokens": [{"id": 2000000000, "content": "<x>", "special": true}]})"),
                       "added_tokens[0].id: id 2000000000 is beyond what the file describes");
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json("{" + kWordLevel + R"(,
      "post_processor": {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>"}},
        {"Sequence": {"id": "A"}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [2000000000],
        "tokens": ["<s>"]}}}})"),
                       "post_processor.special_tokens.<s>.ids[0]: id 2000000000 is beyond");
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json("{" + kWordLevel + R"(,
      "post_processor": {"type": "BertProcessing", "cls": ["[CLS]", 2000000000], "sep": ["[SEP]", 1]}})"),
                       "post_processor.cls[1]: id 2000000000 is beyond");
}

TEST(TokenizerLimits, NegativeIdsAreRefused) {
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json(R"({"model": {"type": "WordLevel", "vocab": {"a": -7}}})"),
                       "model.vocab.a: id -7 is out of range");
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json("{" + kWordLevel + R"(,
      "added_tokens": [{"id": -5, "content": "<x>"}]})"),
                       "added_tokens[0].id: id -5 is out of range");
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json("{" + kWordLevel + R"(,
      "post_processor": {"type": "RobertaProcessing", "cls": ["<s>", 0], "sep": ["</s>", -1]}})"),
                       "post_processor.sep[1]: id -1 is out of range");
}

TEST(TokenizerLimits, ChainedReplaceNormalizersAreStopped) {
  Tokenizer t = Tokenizer::from_json(R"({"normalizer": {"type": "Sequence", "normalizers": [)" +
                                     five_blow_ups() + "]}, " + kWordLevel + "}");
  // "a" becomes 1,000 a's (within 32 x 1 + 4096), then 1,000,000: the second stage is stopped.
  EXPECT_BOUNDED_ERROR(t.encode("a"),
                       "tokenizer.json: normalizer.normalizers[1] (Replace): normalization grew the input "
                       "from 1 to more than 4128 bytes");
  // A long input is stopped in the first stage, before it allocates 1,000 times the input.
  EXPECT_BOUNDED_ERROR(t.encode_ids(std::string(1 << 16, 'a')), "normalizer.normalizers[0] (Replace)",
                       "from 65536 to more than 2101248 bytes");
}

TEST(TokenizerLimits, GrowthLimitCoversTheWholeInput) {
  // Each piece between added tokens gets a 1,000-byte prefix: fine for two pieces, not for 1,000.
  const std::string prepend = std::string(1000, 'p');
  Tokenizer t = Tokenizer::from_json(R"({"normalizer": {"type": "Prepend", "prepend": ")" + prepend + R"("},
      "added_tokens": [{"id": 2, "content": "<s>", "special": true}], )" +
                                     kWordLevel + "}");
  EXPECT_NO_THROW(t.encode("a<s>a"));
  EXPECT_BOUNDED_ERROR(t.encode(repeat("a<s>", 1000)), "normalizer (Prepend): normalization grew the input",
                       "from 4000 to more than 132096 bytes");
}

TEST(TokenizerLimits, NormalizedAddedTokensAreBoundedAtLoad) {
  EXPECT_BOUNDED_ERROR(
      Tokenizer::from_json(R"({"normalizer": {"type": "Sequence", "normalizers": [)" + five_blow_ups() +
                           "]}, " + kWordLevel +
                           R"(, "added_tokens": [{"id": 2, "content": "a", "normalized": true}]})"),
      "normalizer.normalizers[1] (Replace): normalization grew the input from 1 to more than 4128 bytes");
}

TEST(TokenizerLimits, ChainedPreTokenizersAreStopped) {
  // Each ByteLevel doubles text made of bytes >= 0x80: "é" (2 bytes) would reach 2^21 bytes.
  std::string stages;
  for (int i = 0; i < 20; ++i)
    stages +=
        std::string(i ? "," : "") + R"({"type": "ByteLevel", "add_prefix_space": false, "use_regex": false})";
  Tokenizer t = Tokenizer::from_json(R"({"pre_tokenizer": {"type": "Sequence", "pretokenizers": [)" + stages +
                                     "]}, " + kWordLevel + "}");
  EXPECT_BOUNDED_ERROR(t.encode("\xC3\xA9"), "pre_tokenizer.pretokenizers[11] (ByteLevel)",
                       "pre-tokenization grew the input from 2 to more than 4160 bytes");
}

TEST(TokenizerLimits, ChainedReplaceDecodersAreStopped) {
  Tokenizer t = Tokenizer::from_json(R"({"decoder": {"type": "Sequence", "decoders": [)" + five_blow_ups() +
                                     "]}, " + kWordLevel + "}");
  const std::vector<int32_t> ids = {0, 0};
  EXPECT_BOUNDED_ERROR(
      t.decode(ids), "decoder.decoders[1] (Replace): decoding grew the input from 2 to more than 4160 bytes");
}

TEST(TokenizerLimits, RealGrowthIsAccepted) {
  // The largest real expansion: U+FDFA (3 bytes) is 33 under NFKC, its spaces then become U+2581
  // and every byte a two-byte ByteLevel character: 78 bytes, 26 times the input.
  Tokenizer t = Tokenizer::from_json(R"({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"},
      {"type": "Replace", "pattern": {"String": " "}, "content": "\u2581"}]},
      "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "use_regex": false},
      "model": {"type": "WordLevel", "vocab": {"<unk>": 0}, "unk_token": "<unk>"}})");
  EXPECT_EQ(t.encode_ids(repeat("\uFDFA", 100000), false), std::vector<int32_t>{0});
}

TEST(TokenizerLimits, SequencesNestedTooDeepAreRefused) {
  const std::string nfc = R"({"type": "NFC"})";
  EXPECT_NO_THROW(Tokenizer::from_json(R"({"normalizer": )" + nested_sequence("normalizers", nfc, 32) + ", " +
                                       kWordLevel + "}"));
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json(R"({"normalizer": )" + nested_sequence("normalizers", nfc, 40) +
                                            ", " + kWordLevel + "}"),
                       "normalizer Sequence nested deeper than 32 levels");
  EXPECT_BOUNDED_ERROR(
      Tokenizer::from_json(R"({"pre_tokenizer": )" +
                           nested_sequence("pretokenizers", R"({"type": "Whitespace"})", 40) + ", " +
                           kWordLevel + "}"),
      "pre_tokenizer Sequence nested deeper than 32 levels");
  EXPECT_BOUNDED_ERROR(
      Tokenizer::from_json(R"({"decoder": )" + nested_sequence("decoders", R"({"type": "Fuse"})", 40) + ", " +
                           kWordLevel + "}"),
      "decoder Sequence nested deeper than 32 levels");
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json(R"({"post_processor": )" +
                                            nested_sequence("processors", R"({"type": "ByteLevel"})", 40) +
                                            ", " + kWordLevel + "}"),
                       "post_processor Sequence nested deeper than 32 levels");
  // 20,000 and 200,000 levels: the JSON reader refuses them before any stage is built.
  for (size_t depth : {20000u, 200000u}) {
    EXPECT_BOUNDED_ERROR(
        Tokenizer::from_json(R"({"normalizer": )" + nested_sequence("normalizers", nfc, depth) + ", " +
                             kWordLevel + "}"),
        "tokenizer.json: JSON nested deeper than 128 levels (in \"normalizer\")");
  }
}

TEST(TokenizerLimits, JsonNestedAMillionDeepIsRefused) {
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json(std::string(1000000, '['), "deep.json"),
                       "deep.json: JSON nested deeper than 128 levels");
  EXPECT_BOUNDED_ERROR(Tokenizer::from_json(R"({"model": )" + std::string(1000000, '[')),
                       "JSON nested deeper than 128 levels (in \"model\")");
}

TEST(TokenizerLimits, DeepLegacyVocabJsonIsRefused) {
  auto dir = std::filesystem::temp_directory_path() / ("ortlm-limits-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "vocab.json") << std::string(1000000, '[');
  std::ofstream(dir / "merges.txt") << "#version: 0.2\n";
  EXPECT_BOUNDED_ERROR(Tokenizer::from_path(dir), "vocab.json: JSON nested deeper than 128 levels");
  std::filesystem::remove_all(dir);
}

TEST(TokenizerLimits, BacktrackingRegexHitsAPcre2Limit) {
  Tokenizer t = Tokenizer::from_json(R"({"pre_tokenizer": {"type": "Split",
      "pattern": {"Regex": "(\\w+\\s?)*$"}, "behavior": "Isolated"}, )" +
                                     kWordLevel + "}");
  EXPECT_BOUNDED_ERROR(t.encode(std::string(64, 'a') + "!"),
                       "tokenizer.json: pre_tokenizer.pattern: regex \"(\\w+\\s?)*$\": PCRE2 ", " limit",
                       "exceeded on input of 65 bytes");
}

}  // namespace
