#pragma once
// The interfaces of the pipeline's stages, as in Hugging Face tokenizers: normalizer, pre-tokenizer,
// model, post-processor, decoder.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalized_text.hpp"

namespace ortlm::tok {

// What the rewriting stages share: where the file defines them, for error messages.
class Stage {
 public:
  virtual ~Stage() = default;
  // "tokenizer.json: normalizer.normalizers[2] (Replace)"
  const std::string& origin() const { return origin_; }
  void set_origin(std::string origin) { origin_ = std::move(origin); }

 private:
  std::string origin_ = "tokenizer";
};

class Normalizer : public Stage {
 public:
  // Rewrites `text`; throws ortlm::Error naming this stage when the text grows past `limit`.
  void normalize(NormalizedText& text, const GrowthLimit& limit) const {
    apply(text, limit);
    if (limit.exceeded(text.text.size())) grew_too_much(limit);
  }
  void normalize(NormalizedText& text) const { normalize(text, GrowthLimit::for_input(text.text.size())); }

 protected:
  // Stages whose growth the file controls (Replace, Prepend, Precompiled) check `limit` as they go,
  // so that they stop before allocating past it; the others grow by a small factor at most.
  virtual void apply(NormalizedText& text, const GrowthLimit& limit) const = 0;
  [[noreturn]] void grew_too_much(const GrowthLimit& limit) const { limit.fail("normalization", origin()); }
};

class PreTokenizer : public Stage {
 public:
  // Throws ortlm::Error naming this stage when the text grows past `text.limit`.
  void pre_tokenize(PreTokenized& text) const {
    apply(text);
    if (text.limit.exceeded(text.norm.text.size())) text.limit.fail("pre-tokenization", origin());
  }

 protected:
  // Pre-tokenizers cut the text or rewrite each byte into at most a few bytes.
  virtual void apply(PreTokenized& text) const = 0;
};

// A token the model produced: byte range [begin, end) within the word it was given.
struct Token {
  int32_t id;
  uint32_t begin;
  uint32_t end;
};

class Model {
 public:
  virtual ~Model() = default;
  // Appends the tokens of `word` (non-empty) to `out`.
  virtual void tokenize(std::string_view word, std::vector<Token>& out) const = 0;
  virtual std::optional<int32_t> token_to_id(std::string_view token) const = 0;
  virtual const std::string* id_to_token(int32_t id) const = 0;  // nullptr when unknown
  virtual size_t vocab_size() const = 0;                         // one past the largest id
  virtual size_t vocab_entries() const = 0;                      // number of tokens
  // Whether the token string of `id` in an Encoding is the text it covers rather than its vocabulary
  // entry (Unigram's unknown token).
  virtual bool shows_text(int32_t /*id*/) const { return false; }
};

// One element of a post-processor's template: a special token or one of the input sequences.
struct TemplatePiece {
  bool is_sequence = false;
  int sequence = 0;  // 0 = first (A), 1 = second (B)
  uint32_t type_id = 0;
  std::vector<int32_t> ids;  // special token ids
  std::vector<std::string> tokens;
};

class PostProcessor {
 public:
  virtual ~PostProcessor() = default;
  // Adjusts one encoded sequence before assembly (ByteLevel's offset trimming). `text` is that
  // sequence's input; `tokens` the token strings.
  virtual void adjust(std::string_view /*text*/, const std::vector<std::string>& /*tokens*/,
                      std::vector<std::pair<size_t, size_t>>& /*offsets*/) const {}
  // Appends the assembly template for one or two sequences; false when this processor has none.
  virtual bool plan(bool /*pair*/, std::vector<TemplatePiece>& /*out*/) const { return false; }
  // Whether assembly without special tokens keeps the template's type ids (TemplateProcessing) or
  // the sequences' own (Bert, Roberta return their input unchanged).
  virtual bool template_type_ids_without_specials() const { return true; }
};

class Decoder : public Stage {
 public:
  // Throws ortlm::Error naming this stage when the tokens' text grows past `limit`.
  void decode_chain(std::vector<std::string>& tokens, const GrowthLimit& limit) const {
    apply(tokens, limit);
    size_t size = 0;
    for (const std::string& t : tokens) size += t.size();
    if (limit.exceeded(size)) limit.fail("decoding", origin());
  }

 protected:
  // Replace, whose growth the file controls, checks `limit` as it goes.
  virtual void apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const = 0;
};

}  // namespace ortlm::tok
