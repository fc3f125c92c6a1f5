// Pre-tokenizers that cut at character classes: Whitespace, WhitespaceSplit, Digits, Punctuation,
// CharDelimiterSplit, BertPreTokenizer.
#include <utf8proc.h>

#include "tokenizer/normalizers/normalizers.hpp"
#include "tokenizer/pre_tokenizers/pre_tokenizers.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

namespace {

// Oniguruma's \w: letters, marks, decimal digits, connector punctuation.
bool is_word_char(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z') || cp == '_';
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_ME) || c == UTF8PROC_CATEGORY_ND ||
         c == UTF8PROC_CATEGORY_PC;
}

bool is_numeric(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_ND || c == UTF8PROC_CATEGORY_NL || c == UTF8PROC_CATEGORY_NO;
}

bool is_any_punctuation(char32_t cp) {
  if (cp < 0x80)
    return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) ||
           (cp >= 123 && cp <= 126);
  return is_punctuation(cp);
}

}  // namespace

void WhitespacePreTokenizer::apply(PreTokenized& text) const {
  // The pattern \w+|[^\w\s]+: runs of word characters and runs of other non-space characters.
  cut_splits(text, [](std::string_view word, std::vector<Split>& out) {
    int run_class = -1;  // 0 word, 1 other, -1 none
    for (size_t pos = 0; pos < word.size();) {
      size_t begin = pos;
      char32_t cp = utf8::decode(word, pos);
      int cls = is_word_char(cp) ? 0 : utf8::is_white_space(cp) ? -1 : 1;
      if (cls >= 0 && cls == run_class) {
        out.back().end = static_cast<uint32_t>(pos);
      } else if (cls >= 0) {
        out.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(pos), -1});
      }
      run_class = cls;
    }
  });
}

void WhitespaceSplitPreTokenizer::apply(PreTokenized& text) const {
  split_words(text, SplitBehavior::Removed, false, [](std::string_view word, std::vector<Segment>& matches) {
    match_chars(word, utf8::is_white_space, matches);
  });
}

void DigitsPreTokenizer::apply(PreTokenized& text) const {
  split_words(
      text, individual_digits_ ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false,
      [](std::string_view word, std::vector<Segment>& matches) { match_chars(word, is_numeric, matches); });
}

void PunctuationPreTokenizer::apply(PreTokenized& text) const {
  split_words(text, behavior_, false, [](std::string_view word, std::vector<Segment>& matches) {
    match_chars(word, is_any_punctuation, matches);
  });
}

void CharDelimiterPreTokenizer::apply(PreTokenized& text) const {
  split_words(text, SplitBehavior::Removed, false, [&](std::string_view word, std::vector<Segment>& matches) {
    match_chars(
        word, [&](char32_t cp) { return cp == delimiter_; }, matches);
  });
}

void BertPreTokenizer::apply(PreTokenized& text) const {
  WhitespaceSplitPreTokenizer().pre_tokenize(text);
  PunctuationPreTokenizer(SplitBehavior::Isolated).pre_tokenize(text);
}

}  // namespace ortlm::tok
