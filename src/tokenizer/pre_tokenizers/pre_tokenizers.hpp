#pragma once
// Hugging Face pre-tokenizers: they cut the normalized text into words (and some rewrite it).
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/pre_tokenizers/split_pieces.hpp"
#include "tokenizer/regex.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

// GPT-2's byte-level pre-tokenizer: optional prefix space, regex split, bytes shown as characters.
class ByteLevelPreTokenizer : public PreTokenizer {
 public:
  ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex);
  void apply(PreTokenized& text) const override;

 private:
  bool add_prefix_space_;
  std::unique_ptr<Regex> regex_;  // null when use_regex is false
};

// The characters GPT-2's byte-level alphabet shows each byte as (UTF-8), and the way back.
std::string_view byte_level_char(unsigned char byte);
// The byte a byte-level character stands for, or -1 when `cp` is not one.
int byte_level_byte(char32_t cp);

class SplitPreTokenizer : public PreTokenizer {
 public:
  SplitPreTokenizer(std::string literal, std::unique_ptr<Regex> regex, SplitBehavior behavior, bool invert)
      : literal_(std::move(literal)), regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void apply(PreTokenized& text) const override;

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;  // used instead of `literal_` when set
  SplitBehavior behavior_;
  bool invert_;
};

enum class PrependScheme { Always, First, Never };

class MetaspacePreTokenizer : public PreTokenizer {
 public:
  MetaspacePreTokenizer(std::string replacement, PrependScheme scheme, bool split)
      : replacement_(std::move(replacement)), scheme_(scheme), split_(split) {}
  void apply(PreTokenized& text) const override;

 private:
  std::string replacement_;
  PrependScheme scheme_;
  bool split_;
};

// Character-class splitters: Whitespace, WhitespaceSplit, Digits, Punctuation, CharDelimiterSplit,
// BertPreTokenizer.
class WhitespacePreTokenizer : public PreTokenizer {
 public:
  void apply(PreTokenized& text) const override;
};

class WhitespaceSplitPreTokenizer : public PreTokenizer {
 public:
  void apply(PreTokenized& text) const override;
};

class DigitsPreTokenizer : public PreTokenizer {
 public:
  explicit DigitsPreTokenizer(bool individual_digits) : individual_digits_(individual_digits) {}
  void apply(PreTokenized& text) const override;

 private:
  bool individual_digits_;
};

class PunctuationPreTokenizer : public PreTokenizer {
 public:
  explicit PunctuationPreTokenizer(SplitBehavior behavior) : behavior_(behavior) {}
  void apply(PreTokenized& text) const override;

 private:
  SplitBehavior behavior_;
};

class CharDelimiterPreTokenizer : public PreTokenizer {
 public:
  explicit CharDelimiterPreTokenizer(char32_t delimiter) : delimiter_(delimiter) {}
  void apply(PreTokenized& text) const override;

 private:
  char32_t delimiter_;
};

class BertPreTokenizer : public PreTokenizer {
 public:
  void apply(PreTokenized& text) const override;
};

class SequencePreTokenizer : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> stages)
      : stages_(std::move(stages)) {}
  void apply(PreTokenized& text) const override {
    for (const auto& stage : stages_) stage->pre_tokenize(text);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> stages_;
};

// Cuts every word of `text` at the delimiter matches `find(word, matches)` reports.
template <class FindMatches>
void split_words(PreTokenized& text, SplitBehavior behavior, bool invert, FindMatches&& find) {
  thread_local std::vector<Segment> matches;
  cut_splits(text, [&](std::string_view word, std::vector<Split>& out) {
    matches.clear();
    find(word, matches);
    split_by_matches(static_cast<uint32_t>(word.size()), matches, behavior, invert, out);
  });
}

}  // namespace ortlm::tok
