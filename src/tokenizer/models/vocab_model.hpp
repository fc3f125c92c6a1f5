#pragma once
// The part of every tokenizer model that is the same: lookups in its vocabulary.
#include <utility>

#include "tokenizer/models/vocab.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class VocabModel : public Model {
 public:
  std::optional<int32_t> token_to_id(std::string_view token) const override { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const override { return vocab_.token(id); }
  size_t vocab_size() const override { return vocab_.size(); }
  size_t vocab_entries() const override { return vocab_.count(); }

 protected:
  VocabModel() = default;
  explicit VocabModel(Vocab vocab) : vocab_(std::move(vocab)) {}
  Vocab vocab_;
};

}  // namespace ortlm::tok
