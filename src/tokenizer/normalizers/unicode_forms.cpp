// NFC/NFD/NFKC/NFKD, lowercase and accent stripping through utf8proc, plus the character property
// helpers.
#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/normalizers/normalizers.hpp"

namespace ortlm::tok {

namespace {

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// Whether `cp` (the first code point of a character's decomposition) may compose with or reorder
// around the character before it, so that a normalization segment must not start there.
bool joins_previous(utf8proc_int32_t cp) {
  const auto* p = utf8proc_get_property(cp);
  if (p->combining_class != 0) return true;
  if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return true;  // second of a composition pair
  return (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2);  // Hangul vowel / trailing jamo
}

int combining_class(utf8proc_int32_t cp) { return utf8proc_get_property(cp)->combining_class; }

// A decomposed code point and the index (within its segment) of the input character it came from.
struct Decomposed {
  utf8proc_int32_t cp;
  uint32_t origin;
};

// Canonical ordering: each run of combining characters sorted (stably) by combining class.
void canonical_order(std::vector<Decomposed>& cps) {
  auto ccc = [](const Decomposed& d) { return combining_class(d.cp); };
  for (size_t i = 0; i < cps.size();) {
    if (ccc(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && ccc(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i),
                     cps.begin() + static_cast<std::ptrdiff_t>(j),
                     [&](const Decomposed& a, const Decomposed& b) { return ccc(a) < ccc(b); });
    i = j;
  }
}

// Appends the full decomposition of `cp` to `out`.
void decompose(utf8proc_int32_t cp, uint32_t origin, int options, std::vector<Decomposed>& out) {
  utf8proc_int32_t buffer[32];
  int boundclass = 0;
  auto n = utf8proc_decompose_char(cp, buffer, 32, static_cast<utf8proc_option_t>(options), &boundclass);
  if (n <= 0 || n > 32) {  // rejected or too long: kept as is
    out.push_back({cp, origin});
    return;
  }
  for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back({buffer[k], origin});
}

}  // namespace

void UnicodeNormalizer::normalize(NormalizedText& t) const {
  if (is_ascii(t.text)) return;  // ASCII is invariant under every normalization form
  int options = UTF8PROC_DECOMPOSE;
  if (form_ == UnicodeForm::NFKC || form_ == UnicodeForm::NFKD) options |= UTF8PROC_COMPAT;
  bool compose = form_ == UnicodeForm::NFC || form_ == UnicodeForm::NFKC;
  NormalizedText out;
  out.text.reserve(t.text.size() + 16);
  out.align.reserve(t.text.size() + 16);
  const std::string& s = t.text;
  std::vector<Decomposed> decomposed;
  std::vector<utf8proc_int32_t> composed;
  std::vector<size_t> char_starts;  // byte offset of each input character of the segment, then its end
  for (size_t pos = 0; pos < s.size();) {
    // A segment: one character and the ones that join it, normalized on its own.
    decomposed.clear();
    char_starts.clear();
    while (pos < s.size()) {
      size_t next = pos;
      auto cp = static_cast<utf8proc_int32_t>(utf8::decode(s, next));
      size_t before = decomposed.size();
      decompose(cp, static_cast<uint32_t>(char_starts.size()), options, decomposed);
      if (!char_starts.empty() && !joins_previous(decomposed[before].cp)) {
        decomposed.resize(before);  // this character starts the next segment
        break;
      }
      char_starts.push_back(pos);
      pos = next;
    }
    char_starts.push_back(pos);
    canonical_order(decomposed);
    composed.clear();
    for (const Decomposed& d : decomposed) composed.push_back(d.cp);
    size_t n = composed.size();
    if (compose) {
      n = static_cast<size_t>(
          utf8proc_normalize_utf32(composed.data(), static_cast<utf8proc_ssize_t>(n),
                                   static_cast<utf8proc_option_t>(options | UTF8PROC_COMPOSE)));
    }
    size_t inputs = char_starts.size() - 1;
    // Unchanged text keeps its own alignment.
    bool unchanged = n == inputs;
    for (size_t k = 0; unchanged && k < n; ++k) {
      size_t at = char_starts[k];
      unchanged = static_cast<char32_t>(composed[k]) == utf8::decode(s, at);
    }
    if (unchanged) {
      out.append_from(t, char_starts.front(), char_starts.back());
      continue;
    }
    // Each output character is aligned with an input character, as Hugging Face does: by position
    // when the count is unchanged (reordering), with its source when characters decomposed, and
    // else (compositions) with the next input character equal to it, or the next one.
    size_t next_input = 0;
    for (size_t k = 0; k < n; ++k) {
      size_t origin;
      if (n == inputs) {
        origin = k;
      } else if (n == decomposed.size()) {
        origin = decomposed[k].origin;
      } else {
        origin = std::min(next_input, inputs - 1);
        for (size_t m = next_input; m < inputs; ++m) {
          size_t at = char_starts[m];
          if (utf8::decode(s, at) == static_cast<char32_t>(composed[k])) {
            origin = m;
            break;
          }
        }
        next_input = origin + 1;
      }
      Span span{t.align[char_starts[origin]].begin, t.align[char_starts[origin + 1] - 1].end};
      size_t before = out.text.size();
      utf8::append(out.text, static_cast<char32_t>(composed[k]));
      out.align.insert(out.align.end(), out.text.size() - before, span);
    }
  }
  std::swap(t, out);
}

void append_lowercase(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
  } else if (cp == 0x130) {
    out.append("i\xCC\x87");  // the one unconditional multi-character lowercase mapping
  } else {
    utf8::append(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp))));
  }
}

void LowercaseNormalizer::normalize(NormalizedText& t) const {
  if (is_ascii(t.text)) {
    for (char& c : t.text) c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    return;
  }
  map_chars(t, [](std::string_view, char32_t cp, std::string& out) { append_lowercase(out, cp); });
}

bool is_combining_mark(char32_t cp) {
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME;
}

void StripAccentsNormalizer::normalize(NormalizedText& t) const {
  if (is_ascii(t.text)) return;
  map_chars(t, [](std::string_view ch, char32_t cp, std::string& out) {
    if (!is_combining_mark(cp)) out.append(ch);
  });
}

bool is_whitespace(char32_t cp) {
  switch (cp) {
    case 0x09:
    case 0x0A:
    case 0x0B:
    case 0x0C:
    case 0x0D:
    case 0x20:
    case 0x85:
    case 0xA0:
    case 0x1680:
    case 0x2028:
    case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return true;
    default:
      return cp >= 0x2000 && cp <= 0x200A;
  }
}

bool is_alphanumeric(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || ((cp | 32) >= 'a' && (cp | 32) <= 'z');
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(char32_t cp) {
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c >= UTF8PROC_CATEGORY_PC && c <= UTF8PROC_CATEGORY_PO;
}

}  // namespace ortlm::tok
