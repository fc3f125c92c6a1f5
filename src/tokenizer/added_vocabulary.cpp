#include "tokenizer/added_vocabulary.hpp"

#include <algorithm>

#include "tokenizer/normalizers/normalizers.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

void AddedVocabulary::build(std::vector<AddedToken> tokens, const Normalizer* normalizer) {
  tokens_ = std::move(tokens);
  raw_ = {};
  normalized_ = {};
  // All the normalized contents share one growth limit, as the pieces of one input do.
  size_t content_bytes = 0;
  for (const AddedToken& t : tokens_) content_bytes += t.normalized ? t.content.size() : 0;
  GrowthLimit limit = GrowthLimit::for_input(content_bytes);
  for (size_t i = 0; i < tokens_.size(); ++i) {
    const AddedToken& t = tokens_[i];
    by_id_[t.id] = i;
    by_content_.emplace(t.content, i);
    max_id_ = std::max(max_id_, t.id);
    if (t.content.empty()) continue;
    if (!t.normalized) {
      raw_.insert(t.content, static_cast<int32_t>(i));
      continue;
    }
    NormalizedText text;
    text.assign_original(t.content, 0);
    if (normalizer != nullptr) normalizer->normalize(text, limit);
    limit.used += text.text.size();
    if (!text.text.empty()) normalized_.insert(text.text, static_cast<int32_t>(i));
  }
}

namespace {

// The last / first character of `s` is a word character (alphanumeric or '_').
bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t start = s.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
  char32_t cp = utf8::decode(s, start);
  return cp == '_' || is_alphanumeric(cp);
}

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t pos = 0;
  char32_t cp = utf8::decode(s, pos);
  return cp == '_' || is_alphanumeric(cp);
}

// Where the whitespace that `s` ends with begins.
size_t trailing_space_start(std::string_view s) {
  size_t end = s.size();
  while (end > 0) {
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    if (!utf8::is_white_space(utf8::decode(s, pos))) break;
    end = start;
  }
  return end;
}

// Length of the whitespace that `s` starts with.
size_t leading_space_length(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    size_t next = pos;
    if (!utf8::is_white_space(utf8::decode(s, next))) break;
    pos = next;
  }
  return pos;
}

}  // namespace

void AddedVocabulary::split(std::string_view text, bool normalized, std::vector<Split>& out) const {
  const ByteTrie& trie = normalized ? normalized_ : raw_;
  size_t done = 0;  // text before this is already in `out`
  size_t pos = 0;
  while (pos < text.size()) {
    if (!trie.may_start(static_cast<unsigned char>(text[pos]))) {
      ++pos;
      continue;
    }
    size_t length = 0;
    int32_t index = -1;
    trie.for_each_prefix(text.substr(pos), [&](size_t n, int32_t value) {
      length = n;
      index = value;
    });
    if (index < 0) {
      ++pos;
      continue;
    }
    const AddedToken& token = tokens_[static_cast<size_t>(index)];
    size_t start = pos, stop = pos + length;
    pos = stop;  // matches never overlap, even when this one is rejected below
    if (token.single_word && (ends_with_word(text.substr(0, start)) || starts_with_word(text.substr(stop))))
      continue;
    if (token.lstrip) start = std::max(trailing_space_start(text.substr(0, start)), done);
    if (token.rstrip) stop += leading_space_length(text.substr(stop));
    if (done < start) out.push_back({static_cast<uint32_t>(done), static_cast<uint32_t>(start), -1});
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(stop), token.id});
    done = pos = stop;
  }
  if (done < text.size())
    out.push_back({static_cast<uint32_t>(done), static_cast<uint32_t>(text.size()), -1});
}

std::optional<int32_t> AddedVocabulary::token_to_id(std::string_view token) const {
  auto it = by_content_.find(std::string(token));
  if (it == by_content_.end()) return std::nullopt;
  return tokens_[it->second].id;
}

const std::string* AddedVocabulary::id_to_token(int32_t id) const {
  auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : &tokens_[it->second].content;
}

}  // namespace ortlm::tok
