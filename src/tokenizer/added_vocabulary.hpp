#pragma once
// Added tokens (tokenizer.json "added_tokens"): found in the input before the pipeline runs,
// leftmost-longest, honouring lstrip / rstrip / single_word as Hugging Face does.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/byte_trie.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool normalized = false;
  bool lstrip = false;
  bool rstrip = false;
  bool single_word = false;
};

class AddedVocabulary {
 public:
  // Normalized tokens are matched in normalized text, so their content is normalized first.
  void build(std::vector<AddedToken> tokens, const Normalizer* normalizer);

  bool has_raw_tokens() const { return !raw_.empty(); }
  bool has_normalized_tokens() const { return !normalized_.empty(); }
  // Appends the pieces of `text`: matched added tokens (Split::id set) and the text between them.
  // `normalized` picks the tokens matched on normalized text.
  void split(std::string_view text, bool normalized, std::vector<Split>& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  const std::string* id_to_token(int32_t id) const;
  bool is_special(int32_t id) const {
    auto it = by_id_.find(id);
    return it != by_id_.end() && tokens_[it->second].special;
  }
  int32_t max_id() const { return max_id_; }

 private:
  std::vector<AddedToken> tokens_;
  std::unordered_map<int32_t, size_t> by_id_;
  std::unordered_map<std::string, size_t> by_content_;
  ByteTrie raw_, normalized_;  // values: indexes into tokens_
  int32_t max_id_ = -1;
};

}  // namespace ortlm::tok
