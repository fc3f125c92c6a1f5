#pragma once
// A byte trie over strings with an int32 value per key: prefix searches for added tokens and
// Unigram pieces.
#include <algorithm>
#include <array>
#include <cstdint>
#include <string_view>
#include <utility>
#include <vector>

namespace ortlm::tok {

class ByteTrie {
 public:
  ByteTrie() : nodes_(1) {}
  // Sets the value of `key` (non-empty) unless it already has one.
  void insert(std::string_view key, int32_t value);
  bool empty() const { return nodes_.size() <= 1; }
  // Whether some key starts with byte `b` (a cheap filter before a search).
  bool may_start(unsigned char b) const { return starts_[b]; }

  // Calls fn(length, value) for every key that is a prefix of `text`, shortest first.
  template <class Fn>
  void for_each_prefix(std::string_view text, Fn&& fn) const {
    size_t node = 0;
    for (size_t i = 0; i < text.size(); ++i) {
      node = child(node, static_cast<unsigned char>(text[i]));
      if (node == 0) return;
      if (nodes_[node].value >= 0) fn(i + 1, nodes_[node].value);
    }
  }

 private:
  struct Node {
    std::vector<std::pair<unsigned char, uint32_t>> children;  // sorted by byte
    int32_t value = -1;
  };
  size_t child(size_t node, unsigned char b) const {
    const auto& c = nodes_[node].children;
    auto it = std::lower_bound(c.begin(), c.end(), std::pair<unsigned char, uint32_t>{b, 0});
    return it != c.end() && it->first == b ? it->second : 0;
  }
  std::vector<Node> nodes_;
  std::array<bool, 256> starts_{};
};

inline void ByteTrie::insert(std::string_view key, int32_t value) {
  if (key.empty()) return;
  size_t node = 0;
  for (char ch : key) {
    auto b = static_cast<unsigned char>(ch);
    size_t next = child(node, b);
    if (next == 0) {
      next = nodes_.size();
      auto& c = nodes_[node].children;
      c.insert(std::lower_bound(c.begin(), c.end(), std::pair<unsigned char, uint32_t>{b, 0}),
               {b, static_cast<uint32_t>(next)});
      nodes_.emplace_back();
    }
    node = next;
  }
  if (nodes_[node].value < 0) nodes_[node].value = value;
  starts_[static_cast<unsigned char>(key[0])] = true;
}

}  // namespace ortlm::tok
