#pragma once
// Unigram (SentencePiece): the most probable segmentation by Viterbi over a trie of the pieces.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_trie.hpp"
#include "tokenizer/models/vocab.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class UnigramModel : public Model {
 public:
  // `pieces`: (piece, log probability), the index is the id.
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
               bool byte_fallback);
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t vocab_entries() const override { return vocab_.count(); }
  bool shows_text(int32_t id) const override { return unk_id_ && id == *unk_id_; }

 private:
  void viterbi(std::string_view word, std::vector<Token>& out) const;
  Vocab vocab_;
  std::vector<double> scores_;
  ByteTrie trie_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_;
  double unk_score_ = 0;
  std::array<int32_t, 256> byte_ids_{};
  uint64_t serial_;
};

}  // namespace ortlm::tok
