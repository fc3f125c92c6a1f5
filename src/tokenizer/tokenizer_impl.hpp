#pragma once
// The assembled pipeline behind ortlm::Tokenizer.
#include <memory>
#include <vector>

#include "ortlm/tokenizer.hpp"
#include "tokenizer/added_vocabulary.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm {

struct Tokenizer::Impl {
  std::unique_ptr<tok::Normalizer> normalizer;
  std::unique_ptr<tok::PreTokenizer> pre_tokenizer;
  std::unique_ptr<tok::Model> model;
  std::unique_ptr<tok::PostProcessor> post_processor;
  std::unique_ptr<tok::Decoder> decoder;
  tok::AddedVocabulary added;

  // Tokenizes one sequence into `out` (cleared first). Without `details` only ids are filled.
  void encode_sequence(std::string_view text, uint32_t type_id, bool details, Encoding& out) const;
  // Adds the post-processor's special tokens and merges the sequences into one encoding.
  Encoding post_process(Encoding first, const Encoding* second, std::string_view first_text,
                        std::string_view second_text, bool add_special_tokens, bool details) const;
  const std::string* token_of(int32_t id) const;
  size_t vocab_size() const;

 private:
  // Builds the pre-tokenized form of `text`: added tokens first (raw ones on the input, normalized
  // ones on the normalized text), the normalizer on the text between them.
  void extract_and_normalize(std::string_view text, tok::PreTokenized& p) const;
};

}  // namespace ortlm
