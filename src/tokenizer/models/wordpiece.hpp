#pragma once
// WordPiece (BERT): greedy longest-match-first subwords, continuations marked by a prefix ("##").
#include <string>

#include "tokenizer/models/vocab.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class WordPieceModel : public Model {
 public:
  WordPieceModel(Vocab vocab, std::string unk_token, std::string prefix, size_t max_input_chars_per_word)
      : vocab_(std::move(vocab)),
        unk_token_(std::move(unk_token)),
        prefix_(std::move(prefix)),
        max_chars_(max_input_chars_per_word) {}
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t vocab_entries() const override { return vocab_.count(); }

 private:
  void push_unknown(std::string_view word, std::vector<Token>& out) const;
  Vocab vocab_;
  std::string unk_token_;
  std::string prefix_;
  size_t max_chars_;
};

}  // namespace ortlm::tok
