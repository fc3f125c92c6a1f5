// StreamDecoder: Hugging Face's DecodeStream approach. The ids since the last emitted text are
// decoded together with the tokens just before them (so that decoders see the same context as in
// a full decode), and the new suffix is emitted once it does not end in an unfinished character.
#include "ortlm/tokenizer.hpp"
#include "util/utf8.hpp"

namespace ortlm {

namespace {
constexpr size_t kContextTokens = 4;  // prefill tokens kept as context for the first step

bool ends_incomplete(std::string_view text) { return text.ends_with(utf8::kReplacementChar); }
}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : tokenizer_(&tokenizer), skip_special_tokens_(skip_special_tokens) {}

void StreamDecoder::reset() {
  ids_.clear();
  prefix_index_ = read_index_ = 0;
  prefix_text_.clear();
}

void StreamDecoder::prefill(std::span<const int32_t> ids) {
  reset();
  // The last few ids with text: ids past the tokenizer's vocabulary (models often have more logits
  // than tokens) have none, as generated ids past it have none.
  for (auto it = ids.rbegin(); it != ids.rend() && ids_.size() < kContextTokens; ++it)
    if (*it >= 0 && static_cast<size_t>(*it) < tokenizer_->vocab_size()) ids_.insert(ids_.begin(), *it);
  read_index_ = ids_.size();
  prefix_text_ = tokenizer_->decode(ids_, skip_special_tokens_);
}

void StreamDecoder::put(int32_t id, std::string& out) {
  ids_.push_back(id);
  std::span<const int32_t> window(ids_.data() + prefix_index_, ids_.size() - prefix_index_);
  std::string text = tokenizer_->decode(window, skip_special_tokens_);
  if (text.size() <= prefix_text_.size() || ends_incomplete(text) || !text.starts_with(prefix_text_)) return;
  out.append(text, prefix_text_.size());
  // The tokens just emitted become the context of the next window.
  ids_.erase(ids_.begin(), ids_.begin() + static_cast<ptrdiff_t>(read_index_));
  prefix_index_ = 0;
  read_index_ = ids_.size();
  prefix_text_ = tokenizer_->decode(ids_, skip_special_tokens_);
}

void StreamDecoder::finish(std::string& out) {
  if (read_index_ < ids_.size()) {
    std::span<const int32_t> window(ids_.data() + prefix_index_, ids_.size() - prefix_index_);
    std::string text = tokenizer_->decode(window, skip_special_tokens_);
    if (text.size() > prefix_text_.size() && text.starts_with(prefix_text_))
      out.append(text, prefix_text_.size());
  }
  reset();
}

}  // namespace ortlm
