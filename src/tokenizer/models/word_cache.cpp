#include "tokenizer/models/word_cache.hpp"

#include <atomic>
#include <memory>

namespace ortlm::tok {

uint64_t WordCache::next_serial() {
  static std::atomic<uint64_t> serial{1};
  return serial.fetch_add(1);
}

WordCache& WordCache::for_model(uint64_t serial) {
  thread_local uint64_t last_serial = 0;
  thread_local WordCache* last = nullptr;
  if (serial == last_serial) return *last;
  thread_local std::unordered_map<uint64_t, std::unique_ptr<WordCache>> caches;
  // Models come and go (tests load many); keep a thread's caches bounded.
  if (caches.size() >= 8 && !caches.contains(serial)) caches.clear();
  auto& cache = caches[serial];
  if (!cache) cache = std::make_unique<WordCache>();
  last_serial = serial;
  last = cache.get();
  return *cache;
}

bool WordCache::get(std::string_view word, std::vector<Token>& out) const {
  auto it = index_.find(word);
  if (it == index_.end()) return false;
  auto [offset, count] = it->second;
  out.insert(out.end(), tokens_.begin() + offset, tokens_.begin() + offset + count);
  return true;
}

void WordCache::put(std::string_view word, const Token* tokens, size_t count) {
  if (word.size() > kMaxWordBytes) return;
  if (index_.size() >= kMaxEntries) {
    index_.clear();
    tokens_.clear();
  }
  auto offset = static_cast<uint32_t>(tokens_.size());
  tokens_.insert(tokens_.end(), tokens, tokens + count);
  index_.emplace(std::string(word), std::pair{offset, static_cast<uint32_t>(count)});
}

}  // namespace ortlm::tok
