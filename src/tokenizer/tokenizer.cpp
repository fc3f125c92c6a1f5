// ortlm::Tokenizer: encoding (added tokens, normalizer, pre-tokenizer, model, post-processor) and
// decoding.
#include "ortlm/tokenizer.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include "ortlm/error.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "util/utf8.hpp"

namespace ortlm {

void Tokenizer::Impl::extract_and_normalize(std::string_view text, tok::PreTokenized& p) const {
  p.norm.clear();
  p.splits.clear();
  if (!added.has_raw_tokens() && !added.has_normalized_tokens() && normalizer == nullptr) {
    p.norm.assign_original(text, 0);
    if (!text.empty()) p.splits.push_back({0, static_cast<uint32_t>(text.size()), -1});
    return;
  }
  thread_local std::vector<tok::Split> pieces;
  thread_local std::vector<tok::Split> inner;
  thread_local tok::NormalizedText piece_text;
  pieces.clear();
  // The whole input shares one growth limit, so that many small pieces cannot each grow to it.
  tok::GrowthLimit limit = tok::GrowthLimit::for_input(text.size());
  if (added.has_raw_tokens()) {
    added.split(text, false, pieces);
  } else if (!text.empty()) {
    pieces.push_back({0, static_cast<uint32_t>(text.size()), -1});
  }
  for (const tok::Split& piece : pieces) {
    auto base = static_cast<uint32_t>(p.norm.text.size());
    std::string_view raw = text.substr(piece.begin, piece.end - piece.begin);
    if (piece.id >= 0) {
      piece_text.assign_original(raw, piece.begin);
      p.norm.append_from(piece_text, 0, raw.size());
      p.splits.push_back({base, static_cast<uint32_t>(p.norm.text.size()), piece.id});
      continue;
    }
    piece_text.assign_original(raw, piece.begin);
    limit.used = p.norm.text.size();
    if (normalizer) normalizer->normalize(piece_text, limit);
    if (piece_text.text.empty()) continue;
    p.norm.append_from(piece_text, 0, piece_text.text.size());
    inner.clear();
    if (added.has_normalized_tokens()) {
      added.split(piece_text.text, true, inner);
    } else {
      inner.push_back({0, static_cast<uint32_t>(piece_text.text.size()), -1});
    }
    for (const tok::Split& s : inner) p.splits.push_back({base + s.begin, base + s.end, s.id});
  }
}

const std::string* Tokenizer::Impl::token_of(int32_t id) const {
  if (const std::string* t = added.id_to_token(id)) return t;
  return model->id_to_token(id);
}

size_t Tokenizer::Impl::vocab_size() const {
  return std::max(model->vocab_size(), static_cast<size_t>(added.max_id() + 1));
}

void Tokenizer::Impl::encode_sequence(std::string_view text, uint32_t type_id, bool details,
                                      Encoding& out) const {
  if (size_t bad = utf8::find_invalid(text); bad != std::string_view::npos) {
    throw Error("encode: invalid UTF-8 at byte " + std::to_string(bad));
  }
  thread_local tok::PreTokenized p;
  thread_local std::vector<tok::Token> tokens;
  extract_and_normalize(text, p);
  p.limit = tok::GrowthLimit::for_input(text.size());
  if (pre_tokenizer) pre_tokenizer->pre_tokenize(p);
  out = Encoding{};
  out.ids.reserve(text.size() / 3 + 4);
  for (const tok::Split& s : p.splits) {
    tokens.clear();
    if (s.id >= 0) {
      tokens.push_back({s.id, 0, s.end - s.begin});
    } else {
      model->tokenize(p.view(s), tokens);
    }
    for (const tok::Token& t : tokens) {
      out.ids.push_back(t.id);
      if (!details) continue;
      // Added tokens show the text they matched (with any stripped spaces), as Hugging Face does.
      if (s.id >= 0 || model->shows_text(t.id)) {
        out.tokens.emplace_back(p.view(s).substr(t.begin, t.end - t.begin));
      } else {
        const std::string* name = token_of(t.id);
        out.tokens.push_back(name ? *name : std::string());
      }
      tok::Span span = p.norm.original(s.begin + t.begin, s.begin + t.end);
      out.offsets.emplace_back(span.begin, span.end);
    }
  }
  if (details) {
    out.type_ids.assign(out.ids.size(), type_id);
    out.special_tokens_mask.assign(out.ids.size(), 0);
  }
}

namespace {
void append_sequence(Encoding& out, const Encoding& seq, std::optional<uint32_t> type_id, bool details) {
  out.ids.insert(out.ids.end(), seq.ids.begin(), seq.ids.end());
  if (!details) return;
  out.tokens.insert(out.tokens.end(), seq.tokens.begin(), seq.tokens.end());
  out.offsets.insert(out.offsets.end(), seq.offsets.begin(), seq.offsets.end());
  out.special_tokens_mask.insert(out.special_tokens_mask.end(), seq.special_tokens_mask.begin(),
                                 seq.special_tokens_mask.end());
  if (type_id) {
    out.type_ids.insert(out.type_ids.end(), seq.ids.size(), static_cast<int32_t>(*type_id));
  } else {
    out.type_ids.insert(out.type_ids.end(), seq.type_ids.begin(), seq.type_ids.end());
  }
}
}  // namespace

Encoding Tokenizer::Impl::post_process(Encoding first, const Encoding* second, std::string_view first_text,
                                       std::string_view second_text, bool add_special_tokens,
                                       bool details) const {
  Encoding second_copy;
  if (second) second_copy = *second;
  if (post_processor && details) {
    post_processor->adjust(first_text, first.tokens, first.offsets);
    if (second) post_processor->adjust(second_text, second_copy.tokens, second_copy.offsets);
  }
  thread_local std::vector<tok::TemplatePiece> plan;
  plan.clear();
  if (!post_processor || !post_processor->plan(second != nullptr, plan)) {
    if (!second) return first;
    append_sequence(first, second_copy, std::nullopt, details);
    return first;
  }
  bool template_types = add_special_tokens || post_processor->template_type_ids_without_specials();
  Encoding out;
  for (const tok::TemplatePiece& piece : plan) {
    if (piece.is_sequence) {
      const Encoding* seq = piece.sequence == 0 ? &first : (second ? &second_copy : nullptr);
      if (seq)
        append_sequence(out, *seq, template_types ? std::optional(piece.type_id) : std::nullopt, details);
      continue;
    }
    if (!add_special_tokens) continue;
    out.ids.insert(out.ids.end(), piece.ids.begin(), piece.ids.end());
    if (!details) continue;
    out.tokens.insert(out.tokens.end(), piece.tokens.begin(), piece.tokens.end());
    out.offsets.insert(out.offsets.end(), piece.ids.size(), {0, 0});
    out.type_ids.insert(out.type_ids.end(), piece.ids.size(), static_cast<int32_t>(piece.type_id));
    out.special_tokens_mask.insert(out.special_tokens_mask.end(), piece.ids.size(), 1);
  }
  return out;
}

Encoding Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  Encoding first;
  impl_->encode_sequence(text, 0, true, first);
  return impl_->post_process(std::move(first), nullptr, text, {}, add_special_tokens, true);
}

Encoding Tokenizer::encode_pair(std::string_view first, std::string_view second,
                                bool add_special_tokens) const {
  Encoding a, b;
  impl_->encode_sequence(first, 0, true, a);
  impl_->encode_sequence(second, 1, true, b);
  return impl_->post_process(std::move(a), &b, first, second, add_special_tokens, true);
}

std::vector<int32_t> Tokenizer::encode_ids(std::string_view text, bool add_special_tokens) const {
  Encoding first;
  impl_->encode_sequence(text, 0, false, first);
  if (!impl_->post_processor) return std::move(first.ids);
  return impl_->post_process(std::move(first), nullptr, text, {}, add_special_tokens, false).ids;
}

std::vector<Encoding> Tokenizer::encode_batch(std::span<const std::string> texts, bool add_special_tokens,
                                              unsigned threads) const {
  std::vector<Encoding> out(texts.size());
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  threads = static_cast<unsigned>(std::min<size_t>(threads, texts.size()));
  std::atomic<size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    for (size_t i = next++; i < texts.size(); i = next++) {
      try {
        out[i] = encode(texts[i], add_special_tokens);
      } catch (...) {
        std::lock_guard lock(failure_mutex);
        if (!failure) failure = std::current_exception();
      }
    }
  };
  if (threads <= 1) {
    work();
  } else {
    std::vector<std::jthread> pool;
    for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  }
  if (failure) std::rethrow_exception(failure);
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special_tokens) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    const std::string* token = impl_->token_of(id);
    if (token == nullptr) {
      throw Error("decode: id " + std::to_string(id) + " is outside the vocabulary (size " +
                  std::to_string(impl_->vocab_size()) + ")");
    }
    if (skip_special_tokens && impl_->added.is_special(id)) continue;
    tokens.push_back(*token);
  }
  if (!impl_->decoder) {
    std::string joined;
    for (size_t i = 0; i < tokens.size(); ++i) joined.append(i ? " " : "").append(tokens[i]);
    return joined;
  }
  size_t token_bytes = 0;
  for (const std::string& t : tokens) token_bytes += t.size();
  impl_->decoder->decode_chain(tokens, tok::GrowthLimit::for_input(token_bytes));
  std::string text;
  for (const std::string& t : tokens) text += t;
  return text;
}

std::optional<int32_t> Tokenizer::token_to_id(std::string_view token) const {
  if (auto id = impl_->added.token_to_id(token)) return id;
  return impl_->model->token_to_id(token);
}

std::optional<std::string> Tokenizer::id_to_token(int32_t id) const {
  const std::string* token = impl_->token_of(id);
  return token ? std::optional<std::string>(*token) : std::nullopt;
}

size_t Tokenizer::vocab_size() const { return impl_->vocab_size(); }

bool Tokenizer::is_special(int32_t id) const { return impl_->added.is_special(id); }

}  // namespace ortlm
