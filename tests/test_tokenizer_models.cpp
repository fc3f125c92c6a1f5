// Real tokenizers end to end: the bundled stories260k (SentencePiece-style BPE with byte fallback)
// against its reference.json, and GPT-2 (byte-level BPE) against ids from Hugging Face tokenizers.
// Also the ways of loading a tokenizer, the vocabulary queries and batch encoding.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"
#include "test_support.hpp"
#include "util/file.hpp"

namespace {

using ortlm::Tokenizer;
namespace fs = std::filesystem;

fs::path gpt2_folder() { return ortlm::test::shared_models() / "tiny-random-gpt2-fp32"; }

const Tokenizer& stories() {
  static const Tokenizer t = Tokenizer::from_path(ortlm::test::bundled_model());
  return t;
}

TEST(Stories260k, PromptIdsMatchReference) {
  auto reference =
      nlohmann::json::parse(ortlm::util::read_file(ortlm::test::bundled_model() / "reference.json"));
  ASSERT_FALSE(reference["references"].empty());
  for (const auto& r : reference["references"]) {
    std::string prompt = r["prompt"];
    SCOPED_TRACE(prompt);
    EXPECT_EQ(stories().encode_ids(prompt), r["prompt_ids"].get<std::vector<int32_t>>());
    // The generated text decodes back to the reference text.
    std::vector<int32_t> all = r["prompt_ids"].get<std::vector<int32_t>>();
    for (int32_t id : r["greedy_new_ids"]) all.push_back(id);
    std::string text = r["text"];
    EXPECT_EQ(stories().decode(all, true), text.substr(0, stories().decode(all, true).size()));
  }
}

TEST(Stories260k, EncodingDetails) {
  // Reference: Hugging Face tokenizers on the same tokenizer.json.
  ortlm::Encoding e = stories().encode("Hello ü <s>x");
  EXPECT_EQ(e.ids, (std::vector<int32_t>{1, 346, 306, 414, 410, 198, 191, 410, 1, 410, 444}));
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"<s>", "▁He", "ll", "o", "▁", "<0xC3>", "<0xBC>", "▁", "<s>",
                                                "▁", "x"}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint8_t>{1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(e.offsets.front(), (std::pair<size_t, size_t>{0, 0}));
  EXPECT_EQ(e.offsets[1], (std::pair<size_t, size_t>{0, 2}));
  EXPECT_EQ(e.offsets[5], (std::pair<size_t, size_t>{6, 8}));  // both bytes of ü cover the character
  EXPECT_EQ(stories().decode(e.ids), "<s> Hello ü <s> x");
  EXPECT_EQ(stories().decode(e.ids, true), "Hello ü  x");
}

TEST(Stories260k, RoundTripsText) {
  for (std::string text : {"Once upon a time", "  two leading spaces", "ünïcödé 日本語 😀", "a\nb\tc", ""}) {
    EXPECT_EQ(stories().decode(stories().encode_ids(text, false)), text) << text;
  }
}

TEST(Stories260k, VocabularyQueries) {
  EXPECT_EQ(stories().vocab_size(), 512u);
  EXPECT_EQ(stories().token_to_id("<s>"), 1);
  EXPECT_EQ(stories().token_to_id("▁Once"), 403);
  EXPECT_EQ(stories().id_to_token(403), "▁Once");
  EXPECT_FALSE(stories().token_to_id("no such token").has_value());
  EXPECT_FALSE(stories().id_to_token(512).has_value());
  EXPECT_TRUE(stories().is_special(1));
  EXPECT_FALSE(stories().is_special(403));
}

TEST(Gpt2, MatchesReference) {
  Tokenizer gpt2 = Tokenizer::from_path(gpt2_folder());
  std::string text = "Hello world, it's 2024!  Multiple   spaces\n<|endoftext|>ünï 😀";
  ortlm::Encoding e = gpt2.encode(text);
  EXPECT_EQ(e.ids, (std::vector<int32_t>{15496, 995, 11, 340, 338, 48609, 0, 50286, 31217, 50285, 2777, 2114,
                                         198, 50256, 9116, 77, 26884, 30325, 222}));
  EXPECT_EQ(e.tokens[1], "Ġworld");
  EXPECT_EQ(e.offsets[1], (std::pair<size_t, size_t>{5, 11}));
  EXPECT_EQ(gpt2.decode(e.ids), text);
  EXPECT_EQ(gpt2.decode(e.ids, true), "Hello world, it's 2024!  Multiple   spaces\nünï 😀");

  ortlm::Encoding pair = gpt2.encode_pair("Hello world", "second part");
  EXPECT_EQ(pair.ids, (std::vector<int32_t>{15496, 995, 12227, 636}));
  EXPECT_EQ(pair.type_ids, (std::vector<int32_t>{0, 0, 1, 1}));
}

TEST(Gpt2, DecodesPartialCharactersLikeTheReference) {
  Tokenizer gpt2 = Tokenizer::from_path(gpt2_folder());
  // "ĠðŁĺ" alone is the first three bytes of 😀: one U+FFFD, as Rust's lossy conversion.
  EXPECT_EQ(gpt2.decode(std::vector<int32_t>{30325}), " \xEF\xBF\xBD");
}

TEST(Loading, AcceptsFileFolderAndLegacyFolder) {
  Tokenizer from_file = Tokenizer::from_path(gpt2_folder() / "tokenizer.json");
  Tokenizer from_folder = Tokenizer::from_path(gpt2_folder());
  std::string text = "Legacy folders load too: vocab.json + merges.txt";
  EXPECT_EQ(from_file.encode_ids(text), from_folder.encode_ids(text));

  // A GPT-2 style folder made from the same vocabulary and merges.
  auto doc = nlohmann::json::parse(ortlm::util::read_file(gpt2_folder() / "tokenizer.json"));
  fs::path legacy = fs::temp_directory_path() / ("ortlm_legacy_tok_" + std::to_string(::getpid()));
  fs::create_directories(legacy);
  std::ofstream(legacy / "vocab.json") << doc["model"]["vocab"].dump();
  {
    std::ofstream merges(legacy / "merges.txt");
    merges << "#version: 0.2\n";
    for (const auto& m : doc["model"]["merges"]) {
      merges << (m.is_string() ? m.get<std::string>()
                               : m[0].get<std::string>() + " " + m[1].get<std::string>())
             << "\n";
    }
  }
  Tokenizer from_legacy = Tokenizer::from_path(legacy);
  EXPECT_EQ(from_legacy.encode_ids(text), from_file.encode_ids(text));
  EXPECT_EQ(from_legacy.token_to_id("<|endoftext|>"), 50256);
  fs::remove_all(legacy);
}

TEST(Loading, MissingPathsNameThePath) {
  try {
    Tokenizer::from_path("/no/such/folder");
    FAIL() << "expected an error";
  } catch (const ortlm::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/no/such/folder"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Tokenizer::from_path(fs::temp_directory_path()), ortlm::Error);
}

TEST(Batch, MatchesSingleEncodes) {
  std::vector<std::string> texts;
  for (int i = 0; i < 64; ++i) texts.push_back("Story number " + std::to_string(i) + ": once upon a time.");
  auto batch = stories().encode_batch(texts, true, 4);
  ASSERT_EQ(batch.size(), texts.size());
  for (size_t i = 0; i < texts.size(); ++i) EXPECT_EQ(batch[i].ids, stories().encode_ids(texts[i])) << i;
  texts.push_back("bad \xFF byte");
  EXPECT_THROW(stories().encode_batch(texts, true, 3), ortlm::Error);
}

}  // namespace
