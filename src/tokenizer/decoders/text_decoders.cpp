// Decoders that edit token text: Fuse, Strip, Replace, Metaspace, WordPiece, CTC, BPEDecoder.
#include "tokenizer/decoders/decoders.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  if (from.empty() || s.find(from) == std::string::npos) return;
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  for (size_t hit = s.find(from); hit != std::string::npos; hit = s.find(from, pos)) {
    out.append(s, pos, hit - pos).append(to);
    pos = hit + from.size();
  }
  out.append(s, pos);
  s.swap(out);
}

void cleanup_tokenization_spaces(std::string& s) {
  static constexpr std::pair<std::string_view, std::string_view> kRules[] = {
      {" .", "."},   {" ?", "?"},           {" !", "!"},   {" ,", ","},     {" ' ", "'"},   {" n't", "n't"},
      {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (const auto& [from, to] : kRules) replace_all(s, from, to);
}

void FuseDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  std::string all;
  for (const std::string& t : tokens) all += t;
  tokens.assign(1, std::move(all));
}

void StripDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  for (std::string& token : tokens) {
    std::u32string chars;
    for (size_t pos = 0; pos < token.size();) chars.push_back(utf8::decode(token, pos));
    size_t begin = 0;
    while (begin < start_ && begin < chars.size() && chars[begin] == content_) ++begin;
    size_t end = chars.size();
    while (chars.size() - end < stop_ && end > begin && chars[end - 1] == content_) --end;
    if (begin == 0 && end == chars.size()) continue;
    token.clear();
    for (size_t i = begin; i < end; ++i) utf8::append(token, chars[i]);
  }
}

void ReplaceDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit& limit) const {
  size_t total = 0;  // bytes of all the tokens, as this stage rewrites them
  for (const std::string& token : tokens) total += token.size();
  for (std::string& token : tokens) {
    std::string out;
    size_t pos = 0;
    bool matched = false;
    auto replace = [&](size_t b, size_t e) {
      // `content_` can be as long as the file: checked before each replacement.
      total = total - (e - b) + content_.size();
      if (limit.exceeded(total)) limit.fail("decoding", origin());
      out.append(token, pos, b - pos).append(content_);
      pos = e;
      matched = true;
    };
    if (regex_) {
      regex_->for_each_match(token, replace);
    } else if (!literal_.empty()) {
      for (size_t hit = token.find(literal_); hit != std::string::npos; hit = token.find(literal_, pos))
        replace(hit, hit + literal_.size());
    }
    if (!matched) continue;
    out.append(token, pos);
    token.swap(out);
  }
}

void MetaspaceDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  for (size_t i = 0; i < tokens.size(); ++i)
    replace_all(tokens[i], replacement_, i == 0 && strip_first_ ? "" : " ");
}

void WordPieceDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  for (size_t i = 0; i < tokens.size(); ++i) {
    std::string& token = tokens[i];
    if (i != 0) {
      if (token.starts_with(prefix_)) {
        token.erase(0, prefix_.size());
      } else {
        token.insert(0, " ");
      }
    }
    if (cleanup_) cleanup_tokenization_spaces(token);
  }
}

void CtcDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  std::vector<std::string> out;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i > 0 && tokens[i] == tokens[i - 1]) continue;  // repeated tokens collapse
    std::string t = tokens[i];
    replace_all(t, pad_token_, "");
    if (cleanup_) {
      cleanup_tokenization_spaces(t);
      replace_all(t, word_delimiter_, " ");
    }
    if (!t.empty()) out.push_back(std::move(t));
  }
  tokens.swap(out);
}

void BpeSuffixDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  for (size_t i = 0; i < tokens.size(); ++i)
    replace_all(tokens[i], suffix_, i + 1 == tokens.size() ? "" : " ");
}

}  // namespace ortlm::tok
