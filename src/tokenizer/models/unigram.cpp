#include "tokenizer/models/unigram.hpp"

#include <algorithm>
#include <cstdio>

#include "ortlm/error.hpp"
#include "tokenizer/models/word_cache.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

namespace {
constexpr double kUnknownPenalty = 10.0;  // SentencePiece: unknown characters score min - 10
}

UnigramModel::UnigramModel(std::vector<std::pair<std::string, double>> pieces, std::optional<int32_t> unk_id,
                           bool byte_fallback)
    : unk_id_(unk_id), byte_fallback_(byte_fallback), serial_(WordCache::next_serial()) {
  vocab_.reserve(pieces.size());
  scores_.reserve(pieces.size());
  double min_score = 0;
  for (size_t id = 0; id < pieces.size(); ++id) {
    vocab_.add(pieces[id].first, static_cast<int32_t>(id));
    trie_.insert(pieces[id].first, static_cast<int32_t>(id));
    scores_.push_back(pieces[id].second);
    min_score = std::min(min_score, pieces[id].second);
  }
  unk_score_ = min_score - kUnknownPenalty;
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[static_cast<size_t>(b)] = vocab_.find(name).value_or(-1);
  }
}

void UnigramModel::viterbi(std::string_view word, std::vector<Token>& out) const {
  struct Node {
    double score = 0;
    int32_t id = -1;
    int32_t start = -1;  // -1: not reached
  };
  thread_local std::vector<Node> best;
  best.assign(word.size() + 1, Node{});
  best[0].start = 0;
  for (size_t start = 0; start < word.size();) {
    size_t char_len =
        std::min(utf8::sequence_length(static_cast<unsigned char>(word[start])), word.size() - start);
    double base = best[start].score;
    bool has_single_char = false;
    trie_.for_each_prefix(word.substr(start), [&](size_t length, int32_t id) {
      Node& target = best[start + length];
      double score = base + scores_[static_cast<size_t>(id)];
      if (target.start < 0 || score > target.score) target = {score, id, static_cast<int32_t>(start)};
      if (length == char_len) has_single_char = true;
    });
    if (!has_single_char) {
      if (!unk_id_) throw Error("encode: Unigram model has no unk_id for an unknown character");
      Node& target = best[start + char_len];
      double score = base + unk_score_;
      if (target.start < 0 || score > target.score) target = {score, *unk_id_, static_cast<int32_t>(start)};
    }
    start += char_len;
  }
  // Walk back from the end; consecutive unknown pieces fuse into one.
  size_t first = out.size();
  for (size_t end = word.size(); end > 0;) {
    const Node& node = best[end];
    auto start = static_cast<size_t>(node.start);
    if (unk_id_ && node.id == *unk_id_ && out.size() > first && out.back().id == -2) {
      out.back().begin = static_cast<uint32_t>(start);
    } else {
      out.push_back({unk_id_ && node.id == *unk_id_ ? -2 : node.id, static_cast<uint32_t>(start),
                     static_cast<uint32_t>(end)});
    }
    end = start;
  }
  std::reverse(out.begin() + static_cast<ptrdiff_t>(first), out.end());
}

void UnigramModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (word.empty()) return;
  WordCache& cache = WordCache::for_model(serial_);
  if (cache.get(word, out)) return;
  thread_local std::vector<Token> pieces;
  pieces.clear();
  viterbi(word, pieces);
  size_t first = out.size();
  for (const Token& piece : pieces) {
    if (piece.id != -2) {
      out.push_back(piece);
      continue;
    }
    // A fused unknown run: its text may still be a piece; else bytes, else the unknown token.
    std::string_view text = word.substr(piece.begin, piece.end - piece.begin);
    if (auto id = vocab_.find(text)) {
      out.push_back({*id, piece.begin, piece.end});
      continue;
    }
    if (byte_fallback_ && std::all_of(text.begin(), text.end(), [&](char c) {
          return byte_ids_[static_cast<unsigned char>(c)] >= 0;
        })) {
      for (char c : text) out.push_back({byte_ids_[static_cast<unsigned char>(c)], piece.begin, piece.end});
      continue;
    }
    out.push_back({*unk_id_, piece.begin, piece.end});
  }
  cache.put(word, out.data() + first, out.size() - first);
}

}  // namespace ortlm::tok
