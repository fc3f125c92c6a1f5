#pragma once
// WordLevel: each word is one token, or the unknown token.
#include <string>

#include "tokenizer/models/vocab.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class WordLevelModel : public Model {
 public:
  WordLevelModel(Vocab vocab, std::string unk_token)
      : vocab_(std::move(vocab)), unk_token_(std::move(unk_token)) {}
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t vocab_entries() const override { return vocab_.count(); }

 private:
  Vocab vocab_;
  std::string unk_token_;
};

}  // namespace ortlm::tok
