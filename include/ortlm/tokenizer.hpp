#pragma once
// Hugging Face tokenizer.json compatible tokenizer: same ids, same decoded text.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ortlm {

// One encoded sequence, as Hugging Face's Encoding: parallel arrays, one entry per token.
struct Encoding {
  std::vector<int32_t> ids;
  std::vector<int32_t> type_ids;
  std::vector<std::string> tokens;
  // Byte offsets [begin, end) into the original input text (of the sequence the token came from).
  std::vector<std::pair<size_t, size_t>> offsets;
  std::vector<uint8_t> special_tokens_mask;  // 1 for tokens the post-processor added (as Hugging Face)
};

class Tokenizer {
 public:
  // A tokenizer.json file, or a folder holding tokenizer.json (or legacy vocab.json + merges.txt).
  // Throws ortlm::Error naming the file and field at fault.
  static Tokenizer from_path(const std::filesystem::path& path);
  // The text of a tokenizer.json; `origin` names it in error messages.
  static Tokenizer from_json(std::string_view json, std::string_view origin = "tokenizer.json");

  Encoding encode(std::string_view text, bool add_special_tokens = true) const;
  Encoding encode_pair(std::string_view first, std::string_view second, bool add_special_tokens = true) const;
  std::vector<int32_t> encode_ids(std::string_view text, bool add_special_tokens = true) const;
  // Encodes many texts on `threads` worker threads (0 = hardware concurrency).
  std::vector<Encoding> encode_batch(std::span<const std::string> texts, bool add_special_tokens = true,
                                     unsigned threads = 0) const;

  // Throws ortlm::Error for an id outside the vocabulary.
  std::string decode(std::span<const int32_t> ids, bool skip_special_tokens = false) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  size_t vocab_size() const;  // including added tokens
  bool is_special(int32_t id) const;

 private:
  struct Impl;
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

// Turns ids arriving one at a time into text, emitting only complete UTF-8 and exactly the text
// that decode() of the whole sequence gives (SentencePiece leading spaces, byte-fallback runs,
// characters split over several tokens).
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = true);
  // Context ids (e.g. the prompt) whose text is not emitted but affects what follows.
  void prefill(std::span<const int32_t> ids);
  // Appends the text completed by `id` to `out` (possibly nothing).
  void put(int32_t id, std::string& out);
  // Appends whatever is still pending (an incomplete character is emitted as U+FFFD like decode()).
  void finish(std::string& out);
  void reset();

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_tokens_;
  std::vector<int32_t> ids_;
  size_t prefix_index_ = 0;  // ids_[prefix_index_..] are the window still being decoded
  size_t read_index_ = 0;    // ids_[..read_index_] have been emitted
  std::string prefix_text_;
};

}  // namespace ortlm
