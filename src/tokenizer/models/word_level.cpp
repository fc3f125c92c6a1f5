#include "tokenizer/models/word_level.hpp"

#include "ortlm/error.hpp"

namespace ortlm::tok {

void WordLevelModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  auto id = vocab_.find(word);
  if (!id) id = vocab_.find(unk_token_);
  if (!id) {
    throw Error("encode: WordLevel: \"" + std::string(word) + "\" is not in the vocabulary and unk_token \"" +
                unk_token_ + "\" is not either");
  }
  out.push_back({*id, 0, static_cast<uint32_t>(word.size())});
}

}  // namespace ortlm::tok
