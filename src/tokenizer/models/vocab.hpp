#pragma once
// Token string <-> id tables shared by the models: an open-addressing index over the token strings
// (lookups by string_view, no allocation) and an id-indexed array.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ortlm::tok {

class Vocab {
 public:
  // Adds `token` with `id`; false when the token is already present (the first one stays).
  bool add(std::string_view token, int32_t id);
  std::optional<int32_t> find(std::string_view token) const;
  const std::string* token(int32_t id) const {
    return id >= 0 && static_cast<size_t>(id) < tokens_.size() && present_[static_cast<size_t>(id)]
               ? &tokens_[static_cast<size_t>(id)]
               : nullptr;
  }
  size_t size() const { return tokens_.size(); }  // one past the largest id
  size_t count() const { return count_; }
  void reserve(size_t n);

 private:
  void grow();
  std::vector<std::string> tokens_;
  std::vector<uint8_t> present_;
  std::vector<int32_t> slots_;  // ids, -1 for empty
  std::vector<uint32_t> slot_hashes_;
  size_t count_ = 0;
};

// Maps a pair of ids to a value: BPE merge ranks.
class PairMap {
 public:
  struct Value {
    uint32_t rank;
    int32_t id;
  };
  void reserve(size_t n);
  // False when the pair was already present (its value is replaced).
  bool insert(int32_t a, int32_t b, Value v);
  const Value* find(int32_t a, int32_t b) const {
    if (keys_.empty()) return nullptr;
    uint64_t key = pack(a, b);
    size_t mask = keys_.size() - 1;
    for (size_t i = mix(key) & mask;; i = (i + 1) & mask) {
      if (keys_[i] == key) return &values_[i];
      if (keys_[i] == kEmpty) return nullptr;
    }
  }

 private:
  static constexpr uint64_t kEmpty = ~uint64_t{0};
  static uint64_t pack(int32_t a, int32_t b) {
    return (uint64_t{static_cast<uint32_t>(a)} << 32) | static_cast<uint32_t>(b);
  }
  static size_t mix(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdULL;
    k ^= k >> 33;
    return static_cast<size_t>(k);
  }
  void rehash(size_t capacity);
  std::vector<uint64_t> keys_;
  std::vector<Value> values_;
  size_t count_ = 0;
};

}  // namespace ortlm::tok
