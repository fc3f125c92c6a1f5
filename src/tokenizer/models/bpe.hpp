#pragma once
// Byte-pair encoding (Hugging Face's BPE model): characters (or byte-fallback bytes) merged by rank.
#include <array>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/models/vocab.hpp"
#include "tokenizer/models/vocab_model.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::string continuing_subword_prefix;
  std::string end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
};

class BpeModel : public VocabModel {
 public:
  // `merges` in rank order; `where` names the model in errors ("tokenizer.json: model").
  BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
           std::string_view where);

  void tokenize(std::string_view word, std::vector<Token>& out) const override;

 private:
  struct Symbol {
    int32_t id;
    int32_t prev;
    int32_t next;
    uint32_t begin;
    uint32_t len;
  };
  void initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const;
  void merge_all(std::vector<Symbol>& symbols) const;
  void tokenize_piece(std::string_view word, std::vector<Token>& out) const;
  // SentencePiece-style text reaches the model as one long word ("▁" for spaces, no
  // pre-tokenizer). When no merge joins character c with a following "▁", the word can be cut
  // before every such "▁": the pieces tokenize identically, and they repeat, so the cache works.
  bool cuts_before_metaspace_ = false;
  std::vector<char32_t> joins_metaspace_;  // characters some merge joins with a following "▁" (sorted)
  size_t metaspace_cut(std::string_view word, size_t from) const;

  PairMap merges_;
  BpeOptions options_;
  int32_t unk_id_ = -1;
  std::array<int32_t, 256> byte_ids_{};  // id of "<0xXX>", -1 when absent
  uint64_t serial_;
};

}  // namespace ortlm::tok
