#pragma once
// Unigram (SentencePiece): the most probable segmentation by Viterbi over a trie of the pieces.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/byte_trie.hpp"
#include "tokenizer/models/vocab.hpp"
#include "tokenizer/models/vocab_model.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class UnigramModel : public VocabModel {
 public:
  // `pieces`: (piece, log probability), the index is the id.
  UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
               bool byte_fallback);
  void tokenize(std::string_view word, std::vector<Token>& out) const override;
  bool shows_text(int32_t id) const override { return unk_id_ && id == *unk_id_; }

 private:
  void viterbi(std::string_view word, std::vector<Token>& out) const;
  std::vector<double> scores_;
  ByteTrie trie_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_;
  double unk_score_ = 0;
  std::array<int32_t, 256> byte_ids_{};
  uint64_t serial_;
};

}  // namespace ortlm::tok
