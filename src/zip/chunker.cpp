#include "zip/chunker.hpp"

#include <algorithm>

#include "ortlm/error.hpp"
#include "util/utf8.hpp"

namespace ortlm::zip {

namespace {

// Text the tokenizer does not reproduce is halved until pieces this small, which are stored raw.
constexpr size_t kSmallestSplit = 32;

bool is_char_start(char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }

class Planner {
 public:
  Planner(const Tokenizer& tokenizer, std::string_view input, const ChunkLimits& limits)
      : tokenizer_(tokenizer), input_(input), limits_(limits) {}

  std::vector<PlannedChunk> run() {
    for (size_t pos = 0; pos < input_.size();) {
      const size_t end = input_.size() - pos <= limits_.bytes ? input_.size() : cut(pos, pos + limits_.bytes);
      place(pos, end);
      pos = end;
    }
    return std::move(chunks_);
  }

 private:
  // A cut in (lo, target], target < the end of the input: after the last newline in the second
  // half of the range, else after the last space there, else at a character start, else target.
  size_t cut(size_t lo, size_t target) const {
    const size_t half = lo + (target - lo) / 2;
    for (char wanted : {'\n', ' '})
      for (size_t i = target; i > half; --i)
        if (input_[i - 1] == wanted) return i;
    for (size_t i = target; i > lo && i + 4 > target; --i)
      if (is_char_start(input_[i])) return i;
    return target;
  }

  void add_raw(size_t begin, size_t end) {
    if (begin == end) return;
    if (!chunks_.empty() && chunks_.back().kind == ChunkKind::raw &&
        chunks_.back().begin + chunks_.back().size == begin) {
      chunks_.back().size += end - begin;
      return;
    }
    chunks_.push_back({ChunkKind::raw, begin, end - begin, {}});
  }

  // Any bytes: runs of well-formed UTF-8 are text, the bytes between them raw.
  void place(size_t begin, size_t end) {
    const std::string_view region = input_.substr(0, end);
    for (size_t pos = begin; pos < end;) {
      const size_t bad = utf8::find_invalid(region.substr(pos));
      const size_t text_end = bad == std::string_view::npos ? end : pos + bad;
      place_text(pos, text_end);
      size_t next = text_end;
      while (next < end && utf8::valid_sequence_length(region, next) == 0) ++next;
      add_raw(text_end, next);
      pos = next;
    }
  }

  // Well-formed UTF-8.
  void place_text(size_t begin, size_t end) {
    if (begin == end) return;
    const std::string_view text = input_.substr(begin, end - begin);
    std::vector<int32_t> ids;
    try {
      ids = tokenizer_.encode_ids(text, false);
    } catch (const Error&) {
      ids.clear();  // a tokenizer limit (e.g. the normalizer's growth): not model text
    }
    if (ids.size() > limits_.tokens) {
      // Too many tokens: pieces of the byte length the limit is expected to take (with a margin),
      // each checked on its own (one that still has too many is cut again).
      const double per_token = static_cast<double>(text.size()) / static_cast<double>(ids.size());
      const auto step =
          std::max<size_t>(1, static_cast<size_t>(0.9 * per_token * static_cast<double>(limits_.tokens)));
      for (size_t pos = begin; pos < end;) {
        const size_t at = end - pos <= step ? end : cut(pos, pos + step);
        place_text(pos, at);
        pos = at;
      }
      return;
    }
    if (!ids.empty() && tokenizer_.decode(ids, false) == text) {
      chunks_.push_back({ChunkKind::model, begin, text.size(), std::move(ids)});
      return;
    }
    if (text.size() <= kSmallestSplit) {
      add_raw(begin, end);
      return;
    }
    const size_t at = cut(begin, begin + text.size() / 2);
    place_text(begin, at);
    place_text(at, end);
  }

  const Tokenizer& tokenizer_;
  std::string_view input_;
  ChunkLimits limits_;
  std::vector<PlannedChunk> chunks_;
};

}  // namespace

std::vector<PlannedChunk> plan_chunks(const Tokenizer& tokenizer, std::string_view input,
                                      const ChunkLimits& limits) {
  if (limits.bytes < 1 || limits.tokens < 1) throw Error("LLMzip: chunks need at least 1 byte and 1 token");
  return Planner(tokenizer, input, limits).run();
}

}  // namespace ortlm::zip
