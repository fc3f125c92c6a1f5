#include "tokenizer/models/wordpiece.hpp"

#include "ortlm/error.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

void WordPieceModel::push_unknown(std::string_view word, std::vector<Token>& out) const {
  auto unk = vocab_.find(unk_token_);
  if (!unk) throw Error("encode: WordPiece unk_token \"" + unk_token_ + "\" is not in the vocabulary");
  out.push_back({*unk, 0, static_cast<uint32_t>(word.size())});
}

void WordPieceModel::tokenize(std::string_view word, std::vector<Token>& out) const {
  if (utf8::count_chars(word) > max_chars_) return push_unknown(word, out);
  size_t first = out.size();
  std::string candidate;
  for (size_t start = 0; start < word.size();) {
    size_t end = word.size();
    bool found = false;
    while (start < end) {
      std::string_view piece = word.substr(start, end - start);
      std::optional<int32_t> id;
      if (start > 0) {
        candidate.assign(prefix_).append(piece);
        id = vocab_.find(candidate);
      } else {
        id = vocab_.find(piece);
      }
      if (id) {
        out.push_back({*id, static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
        found = true;
        break;
      }
      // Shorten by one character.
      do --end;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (!found) {
      out.resize(first);
      return push_unknown(word, out);
    }
    start = end;
  }
}

}  // namespace ortlm::tok
