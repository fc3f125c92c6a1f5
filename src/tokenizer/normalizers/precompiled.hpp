#pragma once
// SentencePiece's precompiled normalization (the "precompiled_charsmap" of T5, XLM-R, ...): a
// Darts double-array trie of source strings and a blob of their NUL-terminated replacements.
// Also Nmt, SentencePiece's control-character clean-up that usually precedes it.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class PrecompiledNormalizer : public Normalizer {
 public:
  // `base64_charsmap` as in tokenizer.json; `where` names it in errors.
  PrecompiledNormalizer(std::string_view base64_charsmap, std::string_view where);
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;

 private:
  // The replacement for the shortest source string `chunk` starts with, or nullptr.
  const char* lookup(std::string_view chunk, size_t& replacement_length) const;
  std::vector<uint32_t> units_;
  std::string normalized_;
};

class NmtNormalizer : public Normalizer {
 public:
  void apply(NormalizedText& t, const GrowthLimit& limit) const override;
};

}  // namespace ortlm::tok
