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

// Whether `cp` may be the second code point of a canonical composition pair (utf8proc marks those in
// comb_index), Hangul vowel and trailing jamo included.
bool may_compose_second(utf8proc_int32_t cp, const utf8proc_property_t* p) {
  if (p->comb_index != UINT16_MAX && p->comb_index >= 0x8000) return true;
  return (cp >= 0x1161 && cp <= 0x1175) || (cp >= 0x11A8 && cp <= 0x11C2);
}

// Whether `cp` (the first code point of a character's decomposition) may compose with or reorder
// around the character before it, so that a normalization segment must not start there.
bool joins_previous(utf8proc_int32_t cp) {
  const auto* p = utf8proc_get_property(cp);
  return p->combining_class != 0 || may_compose_second(cp, p);
}

int combining_class(utf8proc_int32_t cp) { return utf8proc_get_property(cp)->combining_class; }

// The primary composite of the pair (`a`, `b`), or -1.
utf8proc_int32_t compose_pair(utf8proc_int32_t a, utf8proc_int32_t b) {
  if (!may_compose_second(b, utf8proc_get_property(b))) return -1;
  utf8proc_int32_t pair[2] = {a, b};
  return utf8proc_normalize_utf32(pair, 2, UTF8PROC_COMPOSE) == 1 ? pair[0] : -1;
}

// A normalized code point and its change, as Hugging Face's unicode-normalization-alignments yields
// it: 0 when it replaces the input character at the current position, 1 when it is inserted after
// it, -N when it also stands for the N input characters that follow.
struct Changed {
  utf8proc_int32_t cp;
  int change;
};

// Appends the full decomposition of `cp` to `out`: its first code point replaces it, the others
// are inserted.
void decompose(utf8proc_int32_t cp, int options, std::vector<Changed>& out) {
  utf8proc_int32_t buffer[32];
  int boundclass = 0;
  auto n = utf8proc_decompose_char(cp, buffer, 32, static_cast<utf8proc_option_t>(options), &boundclass);
  if (n <= 0 || n > 32) {  // rejected or too long: kept as is
    out.push_back({cp, 0});
    return;
  }
  for (utf8proc_ssize_t k = 0; k < n; ++k) out.push_back({buffer[k], k == 0 ? 0 : 1});
}

// Canonical ordering: each run of combining characters sorted (stably) by combining class; the
// changes move with their code points.
void canonical_order(std::vector<Changed>& cps) {
  auto ccc = [](const Changed& d) { return combining_class(d.cp); };
  for (size_t i = 0; i < cps.size();) {
    if (ccc(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < cps.size() && ccc(cps[j]) != 0) ++j;
    std::stable_sort(cps.begin() + static_cast<std::ptrdiff_t>(i),
                     cps.begin() + static_cast<std::ptrdiff_t>(j),
                     [&](const Changed& a, const Changed& b) { return ccc(a) < ccc(b); });
    i = j;
  }
}

// Canonical composition of a decomposed, ordered segment into `out`, in the order and with the
// changes of unicode-normalization-alignments: a composite's change is its starter's plus its
// second's minus one; the starter comes out before the marks it could not absorb.
void compose(const std::vector<Changed>& in, std::vector<Changed>& out, std::vector<Changed>& blocked) {
  out.clear();
  blocked.clear();
  bool has_starter = false;
  Changed starter{};
  int last_ccc = -1;  // class of the last blocked mark; -1 while none
  for (const Changed& d : in) {
    int ccc = combining_class(d.cp);
    if (!has_starter) {
      if (ccc != 0) {
        out.push_back(d);
      } else {
        starter = d;
        has_starter = true;
      }
      continue;
    }
    bool reachable = last_ccc < 0 || last_ccc < ccc;
    if (reachable) {
      utf8proc_int32_t composite = compose_pair(starter.cp, d.cp);
      if (composite >= 0) {
        starter = {composite, starter.change + d.change - 1};
        continue;
      }
    }
    if (ccc == 0) {  // a new starter: flush the current one and the marks it kept
      out.push_back(starter);
      out.insert(out.end(), blocked.begin(), blocked.end());
      blocked.clear();
      starter = d;
      last_ccc = -1;
      continue;
    }
    blocked.push_back(d);
    last_ccc = ccc;
  }
  if (has_starter) out.push_back(starter);
  out.insert(out.end(), blocked.begin(), blocked.end());
}

}  // namespace

void UnicodeNormalizer::apply(NormalizedText& t, const GrowthLimit&) const {
  if (is_ascii(t.text)) return;  // ASCII is invariant under every normalization form
  int options = UTF8PROC_DECOMPOSE;
  if (form_ == UnicodeForm::NFKC || form_ == UnicodeForm::NFKD) options |= UTF8PROC_COMPAT;
  bool compose_form = form_ == UnicodeForm::NFC || form_ == UnicodeForm::NFKC;
  NormalizedText out;
  out.text.reserve(t.text.size() + 16);
  out.align.reserve(t.text.size() + 16);
  const std::string& s = t.text;
  std::vector<Changed> decomposed, composed, blocked;
  std::vector<size_t> char_starts;  // byte offset of each input character of the segment, then its end
  auto ascii = [&](size_t i) { return static_cast<unsigned char>(s[i]) < 0x80; };
  for (size_t pos = 0; pos < s.size();) {
    // Fast path: an ASCII character followed by another is a segment of its own, unchanged.
    size_t run = pos;
    while (run + 1 < s.size() && ascii(run) && ascii(run + 1)) ++run;
    if (run > pos) {
      out.append_from(t, pos, run);
      pos = run;
    }
    // A segment: one character and the ones that join it, normalized on its own.
    decomposed.clear();
    char_starts.clear();
    utf8proc_int32_t first = 0;
    while (pos < s.size()) {
      size_t next = pos;
      auto cp = static_cast<utf8proc_int32_t>(utf8::decode(s, next));
      size_t before = decomposed.size();
      decompose(cp, options, decomposed);
      if (!char_starts.empty() && !joins_previous(decomposed[before].cp)) {
        decomposed.resize(before);  // this character starts the next segment
        break;
      }
      if (char_starts.empty()) first = cp;
      char_starts.push_back(pos);
      pos = next;
    }
    char_starts.push_back(pos);
    if (char_starts.size() == 2 && decomposed.size() == 1 && decomposed[0].cp == first) {
      out.append_from(t, char_starts[0], char_starts[1]);  // one character, its own decomposition
      continue;
    }
    canonical_order(decomposed);
    if (compose_form) compose(decomposed, composed, blocked);
    const std::vector<Changed>& result = compose_form ? composed : decomposed;
    size_t inputs = char_starts.size() - 1;
    // Unchanged text keeps its own alignment.
    bool unchanged = result.size() == inputs;
    for (size_t k = 0; unchanged && k < inputs; ++k) {
      size_t at = char_starts[k];
      unchanged = result[k].change == 0 && static_cast<char32_t>(result[k].cp) == utf8::decode(s, at);
    }
    if (unchanged) {
      out.append_from(t, char_starts.front(), char_starts.back());
      continue;
    }
    // Hugging Face's NormalizedString::transform: positional. A change <= 0 takes the alignment of
    // the input character at the cursor and moves past it and the -change characters after it
    // (whichever characters were actually absorbed); an insertion takes the alignment of the input
    // byte before the cursor.
    size_t input = 0;  // cursor, as an index into char_starts
    for (const Changed& c : result) {
      size_t cursor = char_starts[std::min(input, inputs)];
      Span span;
      if (c.change > 0) {
        span = cursor > 0 ? t.align[cursor - 1] : Span{t.align[0].begin, t.align[0].begin};
      } else {
        span = t.align[std::min(cursor, s.size() - 1)];
        input += static_cast<size_t>(1 - c.change);
      }
      size_t before = out.text.size();
      utf8::append(out.text, static_cast<char32_t>(c.cp));
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

void LowercaseNormalizer::apply(NormalizedText& t, const GrowthLimit&) const {
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

void StripAccentsNormalizer::apply(NormalizedText& t, const GrowthLimit&) const {
  if (is_ascii(t.text)) return;
  map_chars(t, [](std::string_view ch, char32_t cp, std::string& out) {
    if (!is_combining_mark(cp)) out.append(ch);
  });
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
