#pragma once
// Per-thread cache of word -> tokens for one model, as Hugging Face caches BPE and Unigram words:
// real text repeats words, so most words are tokenized once per thread.
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/stages.hpp"

namespace ortlm::tok {

class WordCache {
 public:
  static constexpr size_t kMaxWordBytes = 256;
  static constexpr size_t kMaxEntries = 1 << 16;

  // The cache of the model with `serial` (a process-unique number) on the calling thread.
  static WordCache& for_model(uint64_t serial);
  static uint64_t next_serial();

  // Appends the cached tokens of `word` to `out`; false on a miss.
  bool get(std::string_view word, std::vector<Token>& out) const;
  void put(std::string_view word, const Token* tokens, size_t count);

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, std::pair<uint32_t, uint32_t>, Hash, std::equal_to<>> index_;
  std::vector<Token> tokens_;
};

}  // namespace ortlm::tok
