// BertNormalizer: control-character cleanup, CJK spacing, accent stripping, lowercasing.
#include <utf8proc.h>

#include "tokenizer/normalizers/normalizers.hpp"

namespace ortlm::tok {

namespace {

bool is_control(char32_t cp) {
  if (cp == '\t' || cp == '\n' || cp == '\r') return false;
  auto c = utf8proc_category(static_cast<utf8proc_int32_t>(cp));
  return c == UTF8PROC_CATEGORY_CC || c == UTF8PROC_CATEGORY_CF || c == UTF8PROC_CATEGORY_CN ||
         c == UTF8PROC_CATEGORY_CO;
}

bool is_bert_whitespace(char32_t cp) {
  if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r') return true;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp)) == UTF8PROC_CATEGORY_ZS;
}

bool is_chinese_char(char32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

}  // namespace

void BertNormalizer::apply(NormalizedText& t, const GrowthLimit&) const {
  if (options_.clean_text) {
    map_chars(t, [](std::string_view ch, char32_t cp, std::string& out) {
      if (cp == 0 || cp == 0xFFFD || is_control(cp)) return;
      if (is_bert_whitespace(cp)) {
        out.push_back(' ');
      } else {
        out.append(ch);
      }
    });
  }
  if (options_.handle_chinese_chars) {
    map_chars(t, [](std::string_view ch, char32_t cp, std::string& out) {
      bool pad = is_chinese_char(cp);
      if (pad) out.push_back(' ');
      out.append(ch);
      if (pad) out.push_back(' ');
    });
  }
  if (options_.strip_accents) {
    UnicodeNormalizer(UnicodeForm::NFD).normalize(t);
    map_chars(t, [](std::string_view ch, char32_t cp, std::string& out) {
      if (utf8proc_category(static_cast<utf8proc_int32_t>(cp)) != UTF8PROC_CATEGORY_MN) out.append(ch);
    });
  }
  if (options_.lowercase) LowercaseNormalizer().normalize(t);
}

}  // namespace ortlm::tok
