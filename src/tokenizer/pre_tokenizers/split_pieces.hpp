#pragma once
// Turning the matches of a delimiter pattern into pieces, with Hugging Face's
// SplitDelimiterBehavior (Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous).
#include <cstdint>
#include <string_view>
#include <vector>

#include "tokenizer/normalized_text.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// A byte range of the text and whether it matched the delimiter pattern.
struct Segment {
  uint32_t begin;
  uint32_t end;
  bool is_match;
};

// Appends to `out` the pieces of a text of `size` bytes whose delimiter matches are `matches`
// (sorted, non-overlapping byte ranges).
void split_by_matches(uint32_t size, const std::vector<Segment>& matches, SplitBehavior behavior, bool invert,
                      std::vector<Split>& out);

// Collects the characters of `text` for which `pred(cp)` holds, one match per character.
template <class Pred>
void match_chars(std::string_view text, Pred&& pred, std::vector<Segment>& matches) {
  for (size_t pos = 0; pos < text.size();) {
    size_t begin = pos;
    char32_t cp = utf8::decode(text, pos);
    if (pred(cp)) matches.push_back({static_cast<uint32_t>(begin), static_cast<uint32_t>(pos), true});
  }
}

}  // namespace ortlm::tok
