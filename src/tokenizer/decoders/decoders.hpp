#pragma once
// Hugging Face decoders: each rewrites the list of token strings; decode() joins the result.
#include <memory>
#include <string>
#include <vector>

#include "tokenizer/regex.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

// Byte-level characters back to bytes, all tokens fused, invalid UTF-8 repaired with U+FFFD.
class ByteLevelDecoder : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;
};

// Runs of "<0xXX>" tokens become the text they encode (one U+FFFD per byte when invalid UTF-8).
class ByteFallbackDecoder : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;
};

class FuseDecoder : public Decoder {
 public:
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;
};

// Removes up to `start` leading and `stop` trailing `content` characters from each token.
class StripDecoder : public Decoder {
 public:
  StripDecoder(char32_t content, size_t start, size_t stop) : content_(content), start_(start), stop_(stop) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;

 private:
  char32_t content_;
  size_t start_, stop_;
};

class ReplaceDecoder : public Decoder {
 public:
  ReplaceDecoder(std::string literal, std::unique_ptr<Regex> regex, std::string content)
      : literal_(std::move(literal)), regex_(std::move(regex)), content_(std::move(content)) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;

 private:
  std::string literal_;
  std::unique_ptr<Regex> regex_;  // used instead of `literal_` when set
  std::string content_;
};

class MetaspaceDecoder : public Decoder {
 public:
  MetaspaceDecoder(std::string replacement, bool strip_first)
      : replacement_(std::move(replacement)), strip_first_(strip_first) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;

 private:
  std::string replacement_;
  bool strip_first_;  // prepend_scheme is not "never": the first token loses its replacement characters
};

class WordPieceDecoder : public Decoder {
 public:
  WordPieceDecoder(std::string prefix, bool cleanup) : prefix_(std::move(prefix)), cleanup_(cleanup) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;

 private:
  std::string prefix_;
  bool cleanup_;
};

class CtcDecoder : public Decoder {
 public:
  CtcDecoder(std::string pad_token, std::string word_delimiter, bool cleanup)
      : pad_token_(std::move(pad_token)), word_delimiter_(std::move(word_delimiter)), cleanup_(cleanup) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;

 private:
  std::string pad_token_, word_delimiter_;
  bool cleanup_;
};

// BPEDecoder: the end-of-word suffix becomes a space (nothing after the last token).
class BpeSuffixDecoder : public Decoder {
 public:
  explicit BpeSuffixDecoder(std::string suffix) : suffix_(std::move(suffix)) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override;

 private:
  std::string suffix_;
};

class SequenceDecoder : public Decoder {
 public:
  explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> stages) : stages_(std::move(stages)) {}
  void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const override {
    for (const auto& stage : stages_) stage->decode_chain(tokens, limit);
  }

 private:
  std::vector<std::unique_ptr<Decoder>> stages_;
};

// Replaces every occurrence of `from` (non-empty) in `s` with `to`.
void replace_all(std::string& s, std::string_view from, std::string_view to);
// WordPiece's clean-up of spaces before punctuation and English contractions.
void cleanup_tokenization_spaces(std::string& s);

}  // namespace ortlm::tok
