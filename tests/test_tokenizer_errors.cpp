// Bad input gives ortlm::Error naming the file, field, id or byte at fault; never a crash.
#include <gtest/gtest.h>

#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"
#include "test_support.hpp"

namespace {

using ortlm::Tokenizer;

template <class F>
std::string error_of(F&& f) {
  return ortlm::test::error_message(std::forward<F>(f));
}

#define EXPECT_ERROR_CONTAINS(expr, text)                                   \
  do {                                                                      \
    std::string message = error_of([&] { (void)(expr); });                  \
    EXPECT_NE(message.find(text), std::string::npos) << "got: " << message; \
  } while (0)

const char* const kTiny =
    R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]}})";

TEST(TokenizerErrors, MalformedJson) {
  EXPECT_ERROR_CONTAINS(Tokenizer::from_json("{\"model\": ", "my.json"), "my.json: invalid JSON");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_json("[]"), "tokenizer.json: expected a JSON object");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_json("{}"), "tokenizer.json: model: missing");
}

TEST(TokenizerErrors, UnknownTypesAreNamed) {
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(
          R"({"pre_tokenizer": {"type": "Foo"}, "model": {"type": "WordLevel", "vocab": {}}})"),
      "tokenizer.json: pre_tokenizer.type \"Foo\" is not supported");
  EXPECT_ERROR_CONTAINS(Tokenizer::from_json(R"({"model": {"type": "Bar", "vocab": {}}})"),
                        "model.type \"Bar\" is not supported");
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(
          R"({"normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "X"}]},
                                "model": {"type": "WordLevel", "vocab": {}}})"),
      "normalizer.normalizers[1].type \"X\" is not supported");
}

TEST(TokenizerErrors, BadFields) {
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}})"),
      "tokenizer.json: model.merges[0]: token \"b\" is not in the vocabulary");
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": -1}, "merges": []}})"),
      "model.vocab.a: id -1 is out of range");
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": [42]}})"),
      "model.merges[0]");
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(
          R"({"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(unclosed"}, "behavior": "Isolated"},
                                "model": {"type": "WordLevel", "vocab": {}}})"),
      "pre_tokenizer.pattern: invalid regex");
  EXPECT_ERROR_CONTAINS(
      Tokenizer::from_json(
          R"({"added_tokens": [{"content": "x"}], "model": {"type": "WordLevel", "vocab": {}}})"),
      "added_tokens[0].id: missing");
}

TEST(TokenizerErrors, DecodeOutsideVocabulary) {
  Tokenizer t = Tokenizer::from_path(ortlm::test::bundled_model());
  EXPECT_ERROR_CONTAINS(t.decode(std::vector<int32_t>{1, 70000}),
                        "decode: id 70000 is outside the vocabulary (size 512)");
  EXPECT_ERROR_CONTAINS(t.decode(std::vector<int32_t>{-1}), "decode: id -1 is outside the vocabulary");
}

TEST(TokenizerErrors, InvalidUtf8Input) {
  Tokenizer t = Tokenizer::from_json(kTiny);
  EXPECT_ERROR_CONTAINS(t.encode("ab\xFF"), "encode: invalid UTF-8 at byte 2");
  EXPECT_ERROR_CONTAINS(t.encode_ids("a\xE2\x82"), "encode: invalid UTF-8 at byte 1");
  EXPECT_ERROR_CONTAINS(t.encode_pair("a", "\xC0\x80"), "encode: invalid UTF-8 at byte 0");
  EXPECT_EQ(t.encode_ids("abab"), (std::vector<int32_t>{2, 2}));
}

}  // namespace
