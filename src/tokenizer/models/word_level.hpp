#pragma once
// WordLevel: each word is one token, or the unknown token.
#include <string>

#include "tokenizer/models/vocab.hpp"
#include "tokenizer/models/vocab_model.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class WordLevelModel : public VocabModel {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token)
      : VocabModel(std::move(vocab)), unk_token_(std::move(unk_token)) {}
  void tokenize(std::string_view word, std::vector<Token>& out) const override;

 private:
  std::string unk_token_;
};

}  // namespace ortlm::tok
