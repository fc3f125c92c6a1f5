#include "tokenizer/post_processors/post_processors.hpp"

#include <algorithm>

#include "tokenizer/normalizers/normalizers.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

bool TemplateProcessor::plan(bool pair, std::vector<TemplatePiece>& out) const {
  const auto& pieces = pair ? pair_ : single_;
  out.insert(out.end(), pieces.begin(), pieces.end());
  return true;
}

bool ClsSepProcessor::plan(bool pair, std::vector<TemplatePiece>& out) const {
  auto sequence = [](int which, uint32_t type_id) {
    TemplatePiece p;
    p.is_sequence = true;
    p.sequence = which;
    p.type_id = type_id;
    return p;
  };
  auto with_type = [](TemplatePiece p, uint32_t type_id) {
    p.type_id = type_id;
    return p;
  };
  out.push_back(with_type(cls_, 0));
  out.push_back(sequence(0, 0));
  out.push_back(with_type(sep_, 0));
  if (!pair) return true;
  // Roberta puts every token in type 0 and doubles the separator; Bert marks the second part 1.
  uint32_t second = roberta_ ? 0 : 1;
  if (roberta_) out.push_back(with_type(sep_, second));
  out.push_back(sequence(1, second));
  out.push_back(with_type(sep_, second));
  return true;
}

void ClsSepProcessor::adjust(std::string_view text, const std::vector<std::string>& tokens,
                             std::vector<std::pair<size_t, size_t>>& offsets) const {
  if (roberta_ && trim_offsets_) trim_byte_level_offsets(text, tokens, offsets, add_prefix_space_);
}

void ByteLevelProcessor::adjust(std::string_view text, const std::vector<std::string>& tokens,
                                std::vector<std::pair<size_t, size_t>>& offsets) const {
  if (trim_offsets_) trim_byte_level_offsets(text, tokens, offsets, add_prefix_space_);
}

bool SequenceProcessor::plan(bool pair, std::vector<TemplatePiece>& out) const {
  for (const auto& stage : stages_) {
    if (stage->plan(pair, out)) return true;
  }
  return false;
}

void SequenceProcessor::adjust(std::string_view text, const std::vector<std::string>& tokens,
                               std::vector<std::pair<size_t, size_t>>& offsets) const {
  for (const auto& stage : stages_) stage->adjust(text, tokens, offsets);
}

bool SequenceProcessor::template_type_ids_without_specials() const {
  std::vector<TemplatePiece> unused;
  for (const auto& stage : stages_) {
    if (stage->plan(false, unused)) return stage->template_type_ids_without_specials();
  }
  return true;
}

void trim_byte_level_offsets(std::string_view /*text*/, const std::vector<std::string>& tokens,
                             std::vector<std::pair<size_t, size_t>>& offsets, bool add_prefix_space) {
  // Counts the token's leading and trailing spaces ('Ġ', U+0120, or any whitespace character).
  auto is_space = [](char32_t cp) { return cp == 0x120 || utf8::is_white_space(cp); };
  for (size_t i = 0; i < tokens.size() && i < offsets.size(); ++i) {
    std::u32string chars;
    for (size_t pos = 0; pos < tokens[i].size();) chars.push_back(utf8::decode(tokens[i], pos));
    size_t leading = 0, trailing = 0;
    while (leading < chars.size() && is_space(chars[leading])) ++leading;
    while (trailing < chars.size() && is_space(chars[chars.size() - 1 - trailing])) ++trailing;
    auto& [begin, end] = offsets[i];
    if (leading > 0) {
      // A single space that add_prefix_space put before the first word is kept.
      bool is_first = i == 0 || begin == 0;
      if (is_first && add_prefix_space && leading == 1) leading = 0;
      begin = std::min(begin + leading, end);
    }
    if (trailing > 0 && end >= trailing) end = std::max(end - trailing, begin);
  }
}

}  // namespace ortlm::tok
