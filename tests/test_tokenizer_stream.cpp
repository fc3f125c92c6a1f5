// StreamDecoder: ids fed one at a time give exactly decode(all) - decode(prefill), in complete
// UTF-8 pieces only.
#include <gtest/gtest.h>

#include "ortlm/tokenizer.hpp"
#include "test_support.hpp"
#include "util/utf8.hpp"

namespace {

using ortlm::StreamDecoder;
using ortlm::Tokenizer;

// Streams ids[prefill..] after prefilling ids[..prefill]; checks each piece and the total.
// A prefill that ends inside a character has no well-defined continuation and is skipped.
void expect_stream_matches(const Tokenizer& t, const std::vector<int32_t>& ids, size_t prefill, bool skip) {
  StreamDecoder stream(t, skip);
  std::span<const int32_t> all(ids);
  std::string whole = t.decode(ids, skip);
  std::string before = t.decode(all.first(prefill), skip);
  if (whole.substr(0, before.size()) != before) return;
  stream.prefill(all.first(prefill));
  std::string streamed;
  for (size_t i = prefill; i < ids.size(); ++i) {
    std::string piece;
    stream.put(ids[i], piece);
    EXPECT_TRUE(ortlm::utf8::is_valid(piece)) << "after id " << i;
    EXPECT_EQ(piece.find("\xEF\xBF\xBD"), std::string::npos) << "unfinished character emitted at id " << i;
    streamed += piece;
  }
  stream.finish(streamed);
  EXPECT_EQ(streamed, whole.substr(before.size()));
}

const std::vector<std::string> kTexts = {
    "Once upon a time, there was a little girl.",
    "  leading spaces, then ünïcödé, 日本語 and 😀😀 emoji",
    "\n\nnew lines\tand tabs  ",
    "ü",
};

TEST(StreamDecoder, SentencePieceWithByteFallback) {
  Tokenizer t = Tokenizer::from_path(ortlm::test::bundled_model());
  for (const auto& text : kTexts) {
    SCOPED_TRACE(text);
    auto ids = t.encode_ids(text, true);
    for (size_t prefill : {size_t{0}, size_t{1}, size_t{3}}) {
      if (prefill > ids.size()) continue;
      expect_stream_matches(t, ids, prefill, true);
      expect_stream_matches(t, ids, prefill, false);
    }
  }
}

TEST(StreamDecoder, ByteLevel) {
  Tokenizer t = Tokenizer::from_path(ortlm::test::shared_models() / "tiny-random-gpt2-fp32");
  for (const auto& text : kTexts) {
    SCOPED_TRACE(text);
    auto ids = t.encode_ids(text + "<|endoftext|>" + text, true);
    expect_stream_matches(t, ids, 0, true);
    expect_stream_matches(t, ids, 2, false);
  }
}

// A prompt may hold ids the model has logits for but the tokenizer has no token for (padded
// vocabularies): they have no text, and the stream goes on as if they were not there.
TEST(StreamDecoder, PromptIdsPastTheTokenizerHaveNoText) {
  Tokenizer t = Tokenizer::from_path(ortlm::test::bundled_model());
  const auto ids = t.encode_ids("Once upon a time, there was", true);
  const int32_t past = static_cast<int32_t>(t.vocab_size()) + 100;
  std::vector<int32_t> with_extra(ids.begin(), ids.end() - 1);
  with_extra.insert(with_extra.begin() + 2, past);
  with_extra.push_back(past);
  StreamDecoder plain(t), padded(t);
  plain.prefill(std::span(ids).first(ids.size() - 1));
  padded.prefill(with_extra);
  std::string a, b;
  plain.put(ids.back(), a);
  padded.put(ids.back(), b);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, " was");
}

TEST(StreamDecoder, ResetStartsOver) {
  Tokenizer t = Tokenizer::from_path(ortlm::test::bundled_model());
  auto ids = t.encode_ids("Lily and Tom", false);
  StreamDecoder stream(t);
  std::string first;
  for (int32_t id : ids) stream.put(id, first);
  stream.finish(first);
  stream.reset();
  std::string second;
  for (int32_t id : ids) stream.put(id, second);
  stream.finish(second);
  EXPECT_EQ(first, "Lily and Tom");
  EXPECT_EQ(second, first);
}

TEST(StreamDecoder, PendingBytesComeOutOnFinish) {
  Tokenizer t = Tokenizer::from_path(ortlm::test::bundled_model());
  // The first two bytes of "▁" (E2 96 81) via byte fallback: nothing until finish, then U+FFFDs.
  auto e2 = t.token_to_id("<0xE2>"), x96 = t.token_to_id("<0x96>");
  ASSERT_TRUE(e2 && x96);
  StreamDecoder stream(t);
  std::string out;
  stream.put(*e2, out);
  stream.put(*x96, out);
  EXPECT_EQ(out, "");
  stream.finish(out);
  EXPECT_EQ(out, t.decode(std::vector<int32_t>{*e2, *x96}));
}

}  // namespace
