// Normalizers that edit text literally: Strip, Prepend, Replace.
#include "tokenizer/normalizers/normalizers.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

void StripNormalizer::apply(NormalizedText& t, const GrowthLimit&) const {
  size_t begin = 0, end = t.text.size();
  if (left_) {
    while (begin < end) {
      size_t next = begin;
      if (!utf8::is_white_space(utf8::decode(t.text, next))) break;
      begin = next;
    }
  }
  if (right_) {
    while (end > begin) {
      size_t start = end - 1;
      while (start > begin && (static_cast<unsigned char>(t.text[start]) & 0xC0) == 0x80) --start;
      size_t next = start;
      if (!utf8::is_white_space(utf8::decode(t.text, next))) break;
      end = start;
    }
  }
  if (begin == 0 && end == t.text.size()) return;
  t.text = t.text.substr(begin, end - begin);
  t.align.erase(t.align.begin() + static_cast<ptrdiff_t>(end), t.align.end());
  t.align.erase(t.align.begin(), t.align.begin() + static_cast<ptrdiff_t>(begin));
}

void PrependNormalizer::apply(NormalizedText& t, const GrowthLimit& limit) const {
  if (t.text.empty()) return;
  if (limit.exceeded(t.text.size() + prepend_.size())) grew_too_much(limit);
  // The inserted text is aligned with the first character, as Hugging Face does.
  Span first = t.align.front();
  t.text.insert(0, prepend_);
  t.align.insert(t.align.begin(), prepend_.size(), first);
}

void ReplaceNormalizer::apply(NormalizedText& t, const GrowthLimit& limit) const {
  std::string_view text = t.text;
  size_t pos = 0, b = 0, e = 0;
  NormalizedText out;
  bool changed = false;
  auto next_match = [&](size_t from) {
    if (regex_) return regex_->find(text, from, b, e);
    if (literal_.empty()) return false;
    b = text.find(literal_, from);
    if (b == std::string_view::npos) return false;
    e = b + literal_.size();
    return true;
  };
  while (pos < text.size() && next_match(pos)) {
    if (!changed) {
      out.text.reserve(text.size() + 16);
      out.align.reserve(text.size() + 16);
      changed = true;
    }
    if (limit.exceeded(out.text.size() + (b - pos) + content_.size())) grew_too_much(limit);
    out.append_from(t, pos, b);
    // The replacement is aligned with the whole match.
    out.append(content_, Span{t.align[b].begin, t.align[e - 1].end});
    pos = e;
  }
  if (!changed) return;
  out.append_from(t, pos, text.size());
  std::swap(t, out);
}

}  // namespace ortlm::tok
