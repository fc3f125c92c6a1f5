#pragma once
// Text moving through the pipeline, with for every byte the range of the original input it came
// from, so that token offsets refer to the text the caller passed (Hugging Face's NormalizedString).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace ortlm::tok {

// How far one input may grow on its way through the normalizers, the pre-tokenizers or the decoders.
// Real stages grow text by small factors: the most is U+FDFA under NFKC / NFKD (3 bytes become 33),
// 66 after a ByteLevel pre-tokenizer, 22 times its size. A hostile file can chain Replace stages that
// turn "a" into gigabytes. So the text may reach 32 times the input plus 4 KiB (ample for any real
// text, proportional to the input for any file) and never 4 GiB, beyond the 32-bit positions.
struct GrowthLimit {
  static constexpr size_t kFactor = 32;
  static constexpr size_t kSlack = 4096;
  static constexpr size_t kCeiling = std::numeric_limits<uint32_t>::max();

  size_t input_size = 0;  // bytes of the caller's input (for the message)
  size_t max_size = kCeiling;
  size_t used = 0;  // bytes already produced from the same input (earlier pieces of it)

  static GrowthLimit for_input(size_t input_size) {
    size_t max = input_size > (kCeiling - kSlack) / kFactor ? kCeiling : input_size * kFactor + kSlack;
    return {input_size, max, 0};
  }
  bool exceeded(size_t size) const { return size > max_size || used > max_size - size; }
  // Throws ortlm::Error: "<origin>: <what> grew the input from 1 to more than 4128 bytes".
  [[noreturn]] void fail(std::string_view what, std::string_view origin) const;
};

struct Span {
  uint32_t begin = 0;
  uint32_t end = 0;
};

struct NormalizedText {
  std::string text;
  std::vector<Span> align;  // align[i]: original range of the character byte i belongs to

  void clear() {
    text.clear();
    align.clear();
  }
  // `s` taken as original text starting at byte `base` of the input.
  void assign_original(std::string_view s, uint32_t base);
  // Appends `s`, all of whose bytes come from the original range `span`.
  void append(std::string_view s, Span span) {
    text.append(s);
    align.insert(align.end(), s.size(), span);
  }
  // Appends bytes [b, e) of `src` with their alignments.
  void append_from(const NormalizedText& src, size_t b, size_t e) {
    text.append(src.text, b, e - b);
    align.insert(align.end(), src.align.begin() + static_cast<std::ptrdiff_t>(b),
                 src.align.begin() + static_cast<std::ptrdiff_t>(e));
  }
  // Original range covered by normalized bytes [b, e); an empty range maps to an empty span.
  Span original(size_t b, size_t e) const {
    if (align.empty()) return {};
    if (b >= e) {
      uint32_t at = b < align.size() ? align[b].begin : align.back().end;
      return {at, at};
    }
    return {align[b].begin, align[e - 1].end};
  }
};

// One piece of the pre-tokenized text: a byte range of PreTokenized::norm.text, already a token
// when `id` >= 0 (an added token found in the input).
struct Split {
  uint32_t begin = 0;
  uint32_t end = 0;
  int32_t id = -1;
};

struct PreTokenized {
  NormalizedText norm;
  std::vector<Split> splits;
  GrowthLimit limit;  // how far the pre-tokenizers may grow `norm`

  std::string_view view(const Split& s) const {
    return std::string_view(norm.text).substr(s.begin, s.end - s.begin);
  }
};

// Replaces every split that is not an added token by the pieces `split_fn(text, out)` appends to
// `out` as byte ranges [begin, end) relative to that split's text (pre-tokenizers that only cut).
template <class SplitFn>
void cut_splits(PreTokenized& p, SplitFn&& split_fn) {
  thread_local std::vector<Split> next;
  thread_local std::vector<Split> local;
  next.clear();
  next.reserve(p.splits.size() * 2);
  for (const Split& s : p.splits) {
    if (s.id >= 0) {
      next.push_back(s);
      continue;
    }
    local.clear();
    split_fn(p.view(s), local);
    for (const Split& piece : local) {
      if (piece.end > piece.begin) next.push_back({s.begin + piece.begin, s.begin + piece.end, -1});
    }
  }
  p.splits.swap(next);
}

// Rebuilds the text: `transform_fn(src, b, e, out)` appends the transformed bytes of each split that
// is not an added token; split boundaries follow (pre-tokenizers that rewrite characters).
template <class TransformFn>
void rewrite_splits(PreTokenized& p, TransformFn&& transform_fn) {
  thread_local NormalizedText next;
  next.clear();
  next.text.reserve(p.norm.text.size() + p.norm.text.size() / 2 + 8);
  next.align.reserve(next.text.capacity());
  for (Split& s : p.splits) {
    auto begin = static_cast<uint32_t>(next.text.size());
    if (s.id >= 0) {
      next.append_from(p.norm, s.begin, s.end);
    } else {
      transform_fn(p.norm, s.begin, s.end, next);
    }
    s.begin = begin;
    s.end = static_cast<uint32_t>(next.text.size());
  }
  std::swap(p.norm, next);
}

}  // namespace ortlm::tok
