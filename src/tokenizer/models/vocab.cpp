#include "tokenizer/models/vocab.hpp"

#include <functional>

namespace ortlm::tok {

namespace {
uint32_t hash_of(std::string_view s) {
  auto h = std::hash<std::string_view>{}(s);
  return static_cast<uint32_t>(h ^ (h >> 32));
}
size_t capacity_for(size_t n) {
  size_t c = 16;
  while (c < n * 2) c <<= 1;
  return c;
}
}  // namespace

void Vocab::reserve(size_t n) {
  if (capacity_for(n) > slots_.size()) {
    slots_.assign(capacity_for(n), -1);
    slot_hashes_.assign(slots_.size(), 0);
    size_t mask = slots_.size() - 1;
    for (size_t id = 0; id < tokens_.size(); ++id) {
      if (!present_[id]) continue;
      uint32_t h = hash_of(tokens_[id]);
      size_t i = h & mask;
      while (slots_[i] >= 0) i = (i + 1) & mask;
      slots_[i] = static_cast<int32_t>(id);
      slot_hashes_[i] = h;
    }
  }
}

void Vocab::grow() { reserve(slots_.empty() ? 16 : slots_.size()); }

std::optional<int32_t> Vocab::find(std::string_view token) const {
  if (slots_.empty()) return std::nullopt;
  uint32_t h = hash_of(token);
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    int32_t id = slots_[i];
    if (id < 0) return std::nullopt;
    if (slot_hashes_[i] == h && tokens_[static_cast<size_t>(id)] == token) return id;
  }
}

bool Vocab::add(std::string_view token, int32_t id) {
  if (find(token)) return false;
  if ((count_ + 1) * 2 > slots_.size()) grow();
  auto index = static_cast<size_t>(id);
  if (index >= tokens_.size()) {
    tokens_.resize(index + 1);
    present_.resize(index + 1, 0);
  }
  if (present_[index]) return true;  // a second name for an id is ignored: the first stays
  tokens_[index].assign(token);
  present_[index] = 1;
  ++count_;
  uint32_t h = hash_of(token);
  size_t mask = slots_.size() - 1;
  size_t i = h & mask;
  while (slots_[i] >= 0) i = (i + 1) & mask;
  slots_[i] = id;
  slot_hashes_[i] = h;
  return true;
}

void PairMap::reserve(size_t n) {
  if (capacity_for(n) > keys_.size()) rehash(capacity_for(n));
}

void PairMap::rehash(size_t capacity) {
  std::vector<uint64_t> old_keys(capacity, kEmpty);
  std::vector<Value> old_values(capacity);
  old_keys.swap(keys_);
  old_values.swap(values_);
  size_t mask = capacity - 1;
  for (size_t j = 0; j < old_keys.size(); ++j) {
    if (old_keys[j] == kEmpty) continue;
    size_t i = mix(old_keys[j]) & mask;
    while (keys_[i] != kEmpty) i = (i + 1) & mask;
    keys_[i] = old_keys[j];
    values_[i] = old_values[j];
  }
}

bool PairMap::insert(int32_t a, int32_t b, Value v) {
  if ((count_ + 1) * 2 > keys_.size()) rehash(keys_.empty() ? 16 : keys_.size() * 2);
  uint64_t key = pack(a, b);
  size_t mask = keys_.size() - 1;
  size_t i = mix(key) & mask;
  for (; keys_[i] != kEmpty; i = (i + 1) & mask) {
    if (keys_[i] == key) {
      values_[i] = v;  // as a map built from the merges list: the later entry wins
      return false;
    }
  }
  keys_[i] = key;
  values_[i] = v;
  ++count_;
  return true;
}

}  // namespace ortlm::tok
