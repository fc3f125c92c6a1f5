#pragma once
// Hugging Face normalizers. Each rewrites a NormalizedText and keeps every output byte aligned with
// the original characters it came from.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/regex.hpp"
#include "tokenizer/stages.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

// Rebuilds `t` character by character: `fn(ch, cp, out)` appends the replacement of one character
// (possibly nothing) to `out`, and every byte it appends is aligned with that character.
template <class Fn>
void map_chars(NormalizedText& t, Fn&& fn) {
  NormalizedText out;
  out.text.reserve(t.text.size() + 8);
  out.align.reserve(t.text.size() + 8);
  for (size_t pos = 0; pos < t.text.size();) {
    size_t begin = pos;
    char32_t cp = utf8::decode(t.text, pos);
    size_t before = out.text.size();
    fn(std::string_view(t.text).substr(begin, pos - begin), cp, out.text);
    out.align.insert(out.align.end(), out.text.size() - before,
                     Span{t.align[begin].begin, t.align[pos - 1].end});
  }
  std::swap(t, out);
}

enum class UnicodeForm { NFC, NFD, NFKC, NFKD };

class UnicodeNormalizer : public Normalizer {
 public:
  explicit UnicodeNormalizer(UnicodeForm form) : form_(form) {}
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;

 private:
  UnicodeForm form_;
};

class LowercaseNormalizer : public Normalizer {
 public:
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;
};

// Removes combining marks (meant to follow NFD).
class StripAccentsNormalizer : public Normalizer {
 public:
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;
};

class StripNormalizer : public Normalizer {
 public:
  StripNormalizer(bool left, bool right) : left_(left), right_(right) {}
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;

 private:
  bool left_, right_;
};

class PrependNormalizer : public Normalizer {
 public:
  explicit PrependNormalizer(std::string prepend) : prepend_(std::move(prepend)) {}
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;

 private:
  std::string prepend_;
};

// Replaces every match of a literal string or a regex with `content`.
class ReplaceNormalizer : public Normalizer {
 public:
  ReplaceNormalizer(std::string literal, std::unique_ptr<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;  // used instead of `literal_` when set
  std::string content_;
};

struct BertNormalizerOptions {
  bool clean_text = true;
  bool handle_chinese_chars = true;
  bool strip_accents = true;
  bool lowercase = true;
};

class BertNormalizer : public Normalizer {
 public:
  explicit BertNormalizer(BertNormalizerOptions options) : options_(options) {}
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;

 private:
  BertNormalizerOptions options_;
};

class SequenceNormalizer : public Normalizer {
 public:
  explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> stages) : stages_(std::move(stages)) {}
  void apply(NormalizedText& t, const GrowthLimit& limit) const override {
    for (const auto& stage : stages_) stage->normalize(t, limit);
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> stages_;
};

// Unicode property helpers the normalizers and pre-tokenizers share (as Rust's char methods).
bool is_combining_mark(char32_t cp);
bool is_alphanumeric(char32_t cp);  // Rust's char::is_alphanumeric: Alphabetic or Numeric
bool is_punctuation(char32_t cp);   // Unicode P* categories
void append_lowercase(std::string& out, char32_t cp);

}  // namespace ortlm::tok
