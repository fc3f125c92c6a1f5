#pragma once
// WordPiece (BERT): greedy longest-match-first subwords, continuations marked by a prefix ("##").
#include <string>

#include "tokenizer/models/vocab.hpp"
#include "tokenizer/models/vocab_model.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class WordPieceModel : public VocabModel {
 public:
  WordPieceModel(Vocab vocab, std::string unk_token, std::string prefix, size_t max_input_chars_per_word)
      : VocabModel(std::move(vocab)),
        unk_token_(std::move(unk_token)),
        prefix_(std::move(prefix)),
        max_chars_(max_input_chars_per_word) {}
  void tokenize(std::string_view word, std::vector<Token>& out) const override;

 private:
  void push_unknown(std::string_view word, std::vector<Token>& out) const;
  std::string unk_token_;
  std::string prefix_;
  size_t max_chars_;
};

}  // namespace ortlm::tok
