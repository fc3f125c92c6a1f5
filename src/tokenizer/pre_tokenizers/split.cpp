// Split: cut at a literal string or a regex, with a delimiter behavior, possibly inverted.
#include "tokenizer/pre_tokenizers/pre_tokenizers.hpp"

namespace ortlm::tok {

void SplitPreTokenizer::apply(PreTokenized& text) const {
  split_words(text, behavior_, invert_, [&](std::string_view word, std::vector<Segment>& matches) {
    if (regex_) {
      regex_->for_each_match(word, [&](size_t b, size_t e) {
        matches.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), true});
      });
      return;
    }
    if (literal_.empty()) return;
    for (size_t pos = word.find(literal_); pos != std::string_view::npos; pos = word.find(literal_, pos)) {
      matches.push_back({static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + literal_.size()), true});
      pos += literal_.size();
    }
  });
}

}  // namespace ortlm::tok
