// Metaspace (SentencePiece style): spaces become the replacement character (usually U+2581), which
// may also be prepended, and words may be cut before each replacement character.
#include "tokenizer/pre_tokenizers/pre_tokenizers.hpp"

namespace ortlm::tok {

void MetaspacePreTokenizer::apply(PreTokenized& text) const {
  rewrite_splits(text, [&](const NormalizedText& src, uint32_t b, uint32_t e, NormalizedText& out) {
    std::string_view word = std::string_view(src.text).substr(b, e - b);
    bool has_prefix = word.starts_with(replacement_) || word.starts_with(' ');
    bool prepend =
        scheme_ == PrependScheme::Always || (scheme_ == PrependScheme::First && src.align[b].begin == 0);
    if (prepend && !has_prefix) out.append(replacement_, src.align[b]);
    for (uint32_t i = b; i < e; ++i) {
      if (src.text[i] == ' ') {
        out.append(replacement_, src.align[i]);
      } else {
        out.text.push_back(src.text[i]);
        out.align.push_back(src.align[i]);
      }
    }
  });
  if (!split_) return;
  split_words(text, SplitBehavior::MergedWithNext, false,
              [&](std::string_view word, std::vector<Segment>& matches) {
                for (size_t pos = word.find(replacement_); pos != std::string_view::npos;
                     pos = word.find(replacement_, pos)) {
                  matches.push_back(
                      {static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + replacement_.size()), true});
                  pos += replacement_.size();
                }
              });
}

}  // namespace ortlm::tok
