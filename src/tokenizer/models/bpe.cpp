#include "tokenizer/models/bpe.hpp"

#include <algorithm>
#include <cstdio>

#include "ortlm/error.hpp"
#include "tokenizer/models/word_cache.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

namespace {
constexpr std::string_view kMetaspace = "\u2581";
}  // namespace

BpeModel::BpeModel(Vocab vocab, const std::vector<std::pair<std::string, std::string>>& merges,
                   BpeOptions options, std::string_view where)
    : VocabModel(std::move(vocab)), options_(std::move(options)), serial_(WordCache::next_serial()) {
  merges_.reserve(merges.size());
  const std::string& prefix = options_.continuing_subword_prefix;
  std::string merged;
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [a, b] = merges[rank];
    auto at = [&] { return std::string(where) + ".merges[" + std::to_string(rank) + "]: "; };
    auto a_id = vocab_.find(a);
    if (!a_id) throw Error(at() + "token \"" + a + "\" is not in the vocabulary");
    auto b_id = vocab_.find(b);
    if (!b_id) throw Error(at() + "token \"" + b + "\" is not in the vocabulary");
    std::string_view b_tail = b;
    if (!prefix.empty() && b_tail.starts_with(prefix)) b_tail.remove_prefix(prefix.size());
    merged.assign(a).append(b_tail);
    auto merged_id = vocab_.find(merged);
    if (!merged_id) throw Error(at() + "merged token \"" + merged + "\" is not in the vocabulary");
    merges_.insert(*a_id, *b_id, {static_cast<uint32_t>(rank), *merged_id});
  }
  if (options_.unk_token) {
    auto id = vocab_.find(*options_.unk_token);
    if (!id)
      throw Error(std::string(where) + ".unk_token: \"" + *options_.unk_token +
                  "\" is not in the vocabulary");
    unk_id_ = *id;
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[static_cast<size_t>(b)] = vocab_.find(name).value_or(-1);
  }
  cuts_before_metaspace_ = prefix.empty() && options_.end_of_word_suffix.empty() && !options_.ignore_merges &&
                           vocab_.find(kMetaspace).has_value();
  for (const auto& [a, b] : merges) {
    std::string joined = a + b;
    for (size_t at = joined.find(kMetaspace, 1); at != std::string::npos;
         at = joined.find(kMetaspace, at + 1)) {
      size_t start = at - 1;
      while (start > 0 && (static_cast<unsigned char>(joined[start]) & 0xC0) == 0x80) --start;
      size_t pos = start;
      char32_t c = utf8::decode(joined, pos);
      if (c != U'\u2581') joins_metaspace_.push_back(c);
    }
  }
  std::sort(joins_metaspace_.begin(), joins_metaspace_.end());
  joins_metaspace_.erase(std::unique(joins_metaspace_.begin(), joins_metaspace_.end()),
                         joins_metaspace_.end());
}

size_t BpeModel::metaspace_cut(std::string_view word, size_t from) const {
  for (size_t at = word.find(kMetaspace, from); at != std::string_view::npos;
       at = word.find(kMetaspace, at + 1)) {
    size_t start = at - 1;
    while (start > 0 && (static_cast<unsigned char>(word[start]) & 0xC0) == 0x80) --start;
    size_t pos = start;
    char32_t c = utf8::decode(word, pos);
    if (c != U'\u2581' && !std::binary_search(joins_metaspace_.begin(), joins_metaspace_.end(), c)) return at;
  }
  return word.size();
}

void BpeModel::initial_symbols(std::string_view word, std::vector<Symbol>& symbols) const {
  const std::string& prefix = options_.continuing_subword_prefix;
  const std::string& suffix = options_.end_of_word_suffix;
  bool plain = prefix.empty() && suffix.empty();
  std::string piece;
  int32_t unk_len = -1;  // pending unknown run: its byte length
  uint32_t unk_begin = 0;
  auto add = [&](int32_t id, uint32_t begin, uint32_t len) {
    symbols.push_back({id, static_cast<int32_t>(symbols.size()) - 1, -1, begin, len});
  };
  for (size_t pos = 0; pos < word.size();) {
    size_t n = std::min(utf8::sequence_length(static_cast<unsigned char>(word[pos])), word.size() - pos);
    std::string_view ch = word.substr(pos, n);
    std::string_view key = ch;
    if (!plain) {
      piece.clear();
      if (pos > 0) piece.append(prefix);
      piece.append(ch);
      if (pos + n == word.size()) piece.append(suffix);
      key = piece;
    }
    auto begin = static_cast<uint32_t>(pos);
    pos += n;
    if (auto id = vocab_.find(key)) {
      if (unk_len >= 0) add(unk_id_, unk_begin, static_cast<uint32_t>(unk_len));
      unk_len = -1;
      add(*id, begin, static_cast<uint32_t>(n));
      continue;
    }
    if (options_.byte_fallback && std::all_of(key.begin(), key.end(), [&](char c) {
          return byte_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      // As Hugging Face: each byte is its own symbol, and a pending unknown run is not flushed first.
      for (size_t i = 0; i < key.size(); ++i) {
        uint32_t at =
            std::min<uint32_t>(begin + static_cast<uint32_t>(i), begin + static_cast<uint32_t>(n) - 1);
        add(byte_ids_[static_cast<unsigned char>(key[i])], at, 1);
      }
      continue;
    }
    if (unk_id_ < 0) continue;  // no unknown token: the character is dropped
    if (unk_len >= 0 && options_.fuse_unk) {
      unk_len += static_cast<int32_t>(n);
      continue;
    }
    if (unk_len >= 0) add(unk_id_, unk_begin, static_cast<uint32_t>(unk_len));
    unk_begin = begin;
    unk_len = static_cast<int32_t>(n);
  }
  if (unk_len >= 0) add(unk_id_, unk_begin, static_cast<uint32_t>(unk_len));
  for (size_t i = 0; i + 1 < symbols.size(); ++i) symbols[i].next = static_cast<int32_t>(i + 1);
}

namespace {
struct Candidate {
  uint32_t rank;
  int32_t pos;
  int32_t id;
  // std heap functions build a max-heap: "greater" means lower rank, then leftmost.
  bool operator<(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
};
}  // namespace

void BpeModel::merge_all(std::vector<Symbol>& symbols) const {
  thread_local std::vector<Candidate> heap;
  heap.clear();
  auto consider = [&](int32_t pos) {
    int32_t next = symbols[static_cast<size_t>(pos)].next;
    if (next < 0) return;
    if (const auto* m =
            merges_.find(symbols[static_cast<size_t>(pos)].id, symbols[static_cast<size_t>(next)].id)) {
      heap.push_back({m->rank, pos, m->id});
      std::push_heap(heap.begin(), heap.end());
    }
  };
  for (size_t i = 0; i + 1 < symbols.size(); ++i) consider(static_cast<int32_t>(i));
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end());
    Candidate top = heap.back();
    heap.pop_back();
    Symbol& left = symbols[static_cast<size_t>(top.pos)];
    if (left.len == 0 || left.next < 0) continue;
    Symbol& right = symbols[static_cast<size_t>(left.next)];
    const auto* m = merges_.find(left.id, right.id);
    if (m == nullptr || m->id != top.id) continue;  // stale: one side changed since it was queued
    left.id = top.id;
    left.len += right.len;
    right.len = 0;
    left.next = right.next;
    if (left.next >= 0) symbols[static_cast<size_t>(left.next)].prev = top.pos;
    if (left.prev >= 0) consider(left.prev);
    consider(top.pos);
  }
}

void BpeModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (word.empty()) return;
  if (!cuts_before_metaspace_ || word.size() <= WordCache::kMaxWordBytes) return tokenize_piece(word, out);
  // Any "▁" but the first is a candidate cut (the search starts past the first character).
  for (size_t begin = 0; begin < word.size();) {
    size_t end = metaspace_cut(word, begin + 1);
    size_t first = out.size();
    tokenize_piece(word.substr(begin, end - begin), out);
    for (size_t i = first; i < out.size(); ++i) {
      out[i].begin += static_cast<uint32_t>(begin);
      out[i].end += static_cast<uint32_t>(begin);
    }
    begin = end;
  }
}

void BpeModel::tokenize_piece(std::string_view word, std::vector<Token>& out) const {
  if (options_.ignore_merges) {
    if (auto id = vocab_.find(word)) {
      out.push_back({*id, 0, static_cast<uint32_t>(word.size())});
      return;
    }
  }
  WordCache& cache = WordCache::for_model(serial_);
  if (cache.get(word, out)) return;
  thread_local std::vector<Symbol> symbols;
  symbols.clear();
  initial_symbols(word, symbols);
  merge_all(symbols);
  size_t first = out.size();
  for (const Symbol& s : symbols) {
    if (s.len > 0) out.push_back({s.id, s.begin, s.begin + s.len});
  }
  cache.put(word, out.data() + first, out.size() - first);
}

}  // namespace ortlm::tok
