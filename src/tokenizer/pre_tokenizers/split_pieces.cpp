#include "tokenizer/pre_tokenizers/split_pieces.hpp"

#include <algorithm>

namespace ortlm::tok {

void split_by_matches(uint32_t size, const std::vector<Segment>& matches, SplitBehavior behavior, bool invert,
                      std::vector<Split>& out) {
  // The whole text as alternating segments, each marked as delimiter or not.
  thread_local std::vector<Segment> segments;
  segments.clear();
  uint32_t prev = 0;
  for (const Segment& m : matches) {
    if (m.begin > prev) segments.push_back({prev, m.begin, invert});
    segments.push_back({m.begin, m.end, !invert});
    prev = m.end;
  }
  if (prev < size) segments.push_back({prev, size, invert});

  size_t first = out.size();
  bool previous_match = false;
  switch (behavior) {
    case SplitBehavior::Removed:
      for (const Segment& s : segments) {
        if (!s.is_match) out.push_back({s.begin, s.end, -1});
      }
      break;
    case SplitBehavior::Isolated:
      for (const Segment& s : segments) out.push_back({s.begin, s.end, -1});
      break;
    case SplitBehavior::Contiguous:
      for (const Segment& s : segments) {
        if (out.size() > first && s.is_match == previous_match) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, -1});
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MergedWithPrevious:
      for (const Segment& s : segments) {
        if (s.is_match && !previous_match && out.size() > first) {
          out.back().end = s.end;
        } else {
          out.push_back({s.begin, s.end, -1});
        }
        previous_match = s.is_match;
      }
      break;
    case SplitBehavior::MergedWithNext:
      // Walks backwards so that a delimiter joins the piece after it.
      for (size_t i = segments.size(); i-- > 0;) {
        const Segment& s = segments[i];
        if (s.is_match && !previous_match && out.size() > first) {
          out.back().begin = s.begin;
        } else {
          out.push_back({s.begin, s.end, -1});
        }
        previous_match = s.is_match;
      }
      std::reverse(out.begin() + static_cast<ptrdiff_t>(first), out.end());
      break;
  }
}

}  // namespace ortlm::tok
