#include "tokenizer/normalizers/precompiled.hpp"

#include <utf8proc.h>

#include <cstring>

#include "ortlm/error.hpp"
#include "tokenizer/normalizers/normalizers.hpp"
#include "util/base64.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

PrecompiledNormalizer::PrecompiledNormalizer(std::string_view base64_charsmap, std::string_view where) {
  auto blob = base64_decode(base64_charsmap);
  if (!blob) throw Error(std::string(where) + ": not valid base64");
  if (blob->size() < 4) throw Error(std::string(where) + ": too short for a charsmap");
  uint32_t trie_size = 0;
  for (int i = 3; i >= 0; --i)
    trie_size = (trie_size << 8) | static_cast<unsigned char>((*blob)[static_cast<size_t>(i)]);
  if (trie_size % 4 != 0 || trie_size > blob->size() - 4) {
    throw Error(std::string(where) + ": trie size " + std::to_string(trie_size) +
                " does not fit the charsmap");
  }
  units_.resize(trie_size / 4);
  for (size_t i = 0; i < units_.size(); ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(blob->data() + 4 + i * 4);
    units_[i] = uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
  }
  normalized_ = blob->substr(4 + trie_size);
}

const char* PrecompiledNormalizer::lookup(std::string_view chunk, size_t& replacement_length) const {
  // Darts-clone unit layout: bit 8 has_leaf, label in the low byte (+ bit 31), offset above bit 10.
  auto offset = [](uint32_t u) { return (u >> 10) << ((u & (1u << 9)) >> 6); };
  auto label = [](uint32_t u) { return u & ((1u << 31) | 0xFFu); };
  auto has_leaf = [](uint32_t u) { return ((u >> 8) & 1u) == 1u; };
  if (units_.empty()) return nullptr;
  size_t node = offset(units_[0]);
  for (char ch : chunk) {
    auto c = static_cast<unsigned char>(ch);
    if (c == 0) break;
    node ^= c;
    if (node >= units_.size()) return nullptr;
    uint32_t unit = units_[node];
    if (label(unit) != c) return nullptr;
    node ^= offset(unit);
    if (node >= units_.size()) return nullptr;
    if (has_leaf(unit)) {
      // As Hugging Face (spm_precompiled): the first, i.e. shortest, match wins.
      size_t value = units_[node] & 0x7FFFFFFFu;
      if (value >= normalized_.size()) return nullptr;
      const char* s = normalized_.data() + value;
      replacement_length = strnlen(s, normalized_.size() - value);
      return s;
    }
  }
  return nullptr;
}

void PrecompiledNormalizer::apply(NormalizedText& t, const GrowthLimit& limit) const {
  // Hugging Face works grapheme by grapheme: a grapheme shorter than 6 bytes is looked up whole,
  // otherwise (or when it has no entry) each of its characters is.
  NormalizedText out;
  out.text.reserve(t.text.size() + 16);
  out.align.reserve(t.text.size() + 16);
  auto emit = [&](std::string_view s, size_t b, size_t e) {
    // A charsmap's replacements can be as long as the file: checked before each one.
    if (limit.exceeded(out.text.size() + s.size())) grew_too_much(limit);
    out.append(s, Span{t.align[b].begin, t.align[e - 1].end});
  };
  auto per_char = [&](size_t b, size_t e) {
    for (size_t pos = b; pos < e;) {
      size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(t.text[pos])), e - pos);
      size_t len = 0;
      const char* repl = lookup(std::string_view(t.text).substr(pos, n), len);
      if (repl) {
        emit(std::string_view(repl, len), pos, pos + n);
      } else {
        out.append_from(t, pos, pos + n);
      }
      pos += n;
    }
  };
  const std::string& s = t.text;
  size_t grapheme_begin = 0;
  utf8proc_int32_t state = 0;
  char32_t prev = 0;
  for (size_t pos = 0; pos <= s.size();) {
    size_t next = pos;
    char32_t cp = pos < s.size() ? utf8::decode(s, next) : 0;
    bool boundary = pos == s.size() ||
                    (pos > 0 && utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev),
                                                                 static_cast<utf8proc_int32_t>(cp), &state));
    if (boundary && pos > grapheme_begin) {
      size_t len = 0;
      const char* repl = nullptr;
      if (pos - grapheme_begin < 6)
        repl = lookup(std::string_view(s).substr(grapheme_begin, pos - grapheme_begin), len);
      if (repl) {
        emit(std::string_view(repl, len), grapheme_begin, pos);
      } else {
        per_char(grapheme_begin, pos);
      }
      grapheme_begin = pos;
    }
    if (pos == s.size()) break;
    prev = cp;
    pos = next;
  }
  std::swap(t, out);
}

void NmtNormalizer::apply(NormalizedText& t, const GrowthLimit&) const {
  map_chars(t, [](std::string_view ch, char32_t cp, std::string& out) {
    bool removed = (cp >= 0x01 && cp <= 0x08) || cp == 0x0B || (cp >= 0x0E && cp <= 0x1F) || cp == 0x7F ||
                   cp == 0x8F || cp == 0x9F;
    if (removed) return;
    bool space = cp == 0x09 || cp == 0x0A || cp == 0x0C || cp == 0x0D || cp == 0x1680 ||
                 (cp >= 0x200B && cp <= 0x200F) || cp == 0x2028 || cp == 0x2029 || cp == 0x2581 ||
                 cp == 0xFEFF || cp == 0xFFFD;
    if (space) {
      out.push_back(' ');
    } else {
      out.append(ch);
    }
  });
}

}  // namespace ortlm::tok
