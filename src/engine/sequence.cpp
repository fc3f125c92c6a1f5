#include "engine/sequence.hpp"

#include <algorithm>
#include <limits>

#include "engine/logprobs.hpp"
#include "ortlm/error.hpp"

namespace ortlm::engine {

Sequence::Sequence(RequestId id, std::vector<int32_t> prompt_ids, const GenerationOptions& options,
                   uint64_t seed, TokenCallback on_token, const Model& model)
    : id_(id),
      tokens_(std::move(prompt_ids)),
      prompt_length_(tokens_.size()),
      options_(options),
      eos_ids_(model.config().eos_token_ids),
      tokenizer_(model.tokenizer()),
      sampler_(options, model.config().vocab_size, seed, model.config().eos_token_ids),
      stop_filter_(options.stop_strings),
      on_token_(std::move(on_token)) {
  // What can be generated is bounded by the context too (max_new_tokens may be INT32_MAX).
  const auto most_new = static_cast<size_t>(std::clamp<int64_t>(
      std::min<int64_t>(options.max_new_tokens, int64_t{model.config().context_length} + 1), 0, INT32_MAX));
  tokens_.reserve(prompt_length_ + most_new);
  if (options.logprobs > 0) result_.logprobs.reserve(most_new);
  result_.seed = seed;
  if (tokenizer_) {
    detokenizer_.emplace(*tokenizer_, true);
    detokenizer_->prefill(tokens_);
  }
  if (is_beam_search(options)) {
    const int32_t context = model.config().context_length;
    const int64_t limit = budget(context), requested = budget(std::numeric_limits<int32_t>::max());
    beams_ =
        std::make_unique<BeamGroup>(options, prompt(), model.config().vocab_size, eos_ids_, limit,
                                    limit < requested ? StopReason::context_full : StopReason::max_tokens);
  }
}

int64_t Sequence::budget(int32_t context_length) const {
  int64_t limit = options_.max_new_tokens - static_cast<int64_t>(generated());
  if (options_.max_length > 0)
    limit = std::min<int64_t>(limit, options_.max_length - static_cast<int64_t>(tokens_.size()));
  return std::min<int64_t>(limit, int64_t{context_length} - static_cast<int64_t>(tokens_.size()) + 1);
}

bool Sequence::is_eos(int32_t id) const {
  return options_.stop_at_eos && std::find(eos_ids_.begin(), eos_ids_.end(), id) != eos_ids_.end();
}

bool Sequence::accept(std::span<const float> logits, std::span<float> scratch, int32_t context_length) {
  int32_t id = 0;
  try {
    if (sampler_.reads_only()) {
      id = sampler_.next_unmodified(logits, tokens_.size());
    } else {
      std::copy(logits.begin(), logits.end(), scratch.begin());
      id = sampler_.next(scratch, tokens_, prompt_length_);
    }
  } catch (const Error& e) {
    finish(StopReason::error, e.what());
    return true;
  }
  if (options_.logprobs > 0) step_logprobs(logits, id, options_.logprobs, result_.logprobs.emplace_back());
  tokens_.push_back(id);
  const bool eos = is_eos(id);
  const bool stop_token = is_stop_token(id);
  const bool hit_stop_string = stream_text(id);
  if (on_token_ && !on_token_(id, piece_)) {
    finish(StopReason::cancelled);
    return true;
  }
  if (eos || stop_token || hit_stop_string) {
    finish(eos ? StopReason::eos : stop_token ? StopReason::stop_token : StopReason::stop_string);
    return true;
  }
  if (static_cast<int32_t>(generated()) >= options_.max_new_tokens ||
      (options_.max_length > 0 && static_cast<int64_t>(tokens_.size()) >= options_.max_length)) {
    finish(StopReason::max_tokens);
    return true;
  }
  // The new token is fed next: it must fit in the context.
  if (static_cast<int64_t>(tokens_.size()) > context_length) {
    finish(StopReason::context_full);
    return true;
  }
  return false;
}

void Sequence::flush_text() {
  if (!detokenizer_ || result_.stop_reason == StopReason::stop_string) return;
  std::string tail, safe;
  detokenizer_->finish(tail);
  stop_filter_.push(tail, safe);
  stop_filter_.flush(safe);
  result_.text += safe;
  if (on_token_ && !safe.empty()) on_token_(-1, safe);
}

void Sequence::finish(StopReason reason, std::string error) {
  if (status_ == SequenceStatus::finished) return;
  status_ = SequenceStatus::finished;
  result_.stop_reason = reason;
  result_.error = std::move(error);
  if (reason != StopReason::error) flush_text();
  if (prefill_end_ != Clock::time_point{})
    result_.decode_seconds = std::chrono::duration<double>(Clock::now() - prefill_end_).count();
}

void Sequence::mark_prefill(Clock::time_point start, Clock::time_point end, size_t cached) {
  if (preemptions_ > 0) return;
  result_.prefill_seconds = std::chrono::duration<double>(end - start).count();
  result_.cached_prompt_tokens = cached;
  prefill_end_ = end;
}

bool Sequence::stream_text(int32_t id) {
  piece_.clear();
  if (!detokenizer_ || !has_text(id)) return false;
  decoded_.clear();
  detokenizer_->put(id, decoded_);
  const bool hit_stop_string = stop_filter_.push(decoded_, piece_);
  result_.text += piece_;
  return hit_stop_string;
}

GenerationResult Sequence::take_result() {
  result_.prompt_ids.assign(tokens_.begin(), tokens_.begin() + static_cast<ptrdiff_t>(prompt_length_));
  result_.new_ids.assign(tokens_.begin() + static_cast<ptrdiff_t>(prompt_length_), tokens_.end());
  if (result_.sequences.empty())  // plain decoding, or a beam search cancelled or failed
    result_.sequences.push_back({result_.new_ids, result_.text, 0.0f, result_.stop_reason});
  return std::move(result_);
}

bool Sequence::is_stop_token(int32_t id) const {
  return std::find(options_.stop_token_ids.begin(), options_.stop_token_ids.end(), id) !=
         options_.stop_token_ids.end();
}

bool Sequence::has_text(int32_t id) const {
  // Ids past the tokenizer's vocabulary (models often have more logits than the tokenizer has tokens)
  // have no text, as in Hugging Face's decode, which skips them; nor have the ids that end a sequence.
  return tokenizer_ && static_cast<size_t>(id) < tokenizer_->vocab_size() && !is_eos(id) &&
         !is_stop_token(id);
}

void Sequence::finish_beams(std::vector<ReturnedSequence> sequences) {
  if (status_ == SequenceStatus::finished || sequences.empty()) return;
  if (tokenizer_) {
    for (auto& sequence : sequences) {
      StreamDecoder decoder(*tokenizer_, true);
      decoder.prefill(prompt());
      for (int32_t id : sequence.new_ids)
        if (has_text(id)) decoder.put(id, sequence.text);
      decoder.finish(sequence.text);
    }
  }
  // The best one goes through this sequence's own decoder and callback, as if accepted id by id
  // (beam search has no stop strings: the stop filter passes everything through).
  const ReturnedSequence& best = sequences.front();
  bool listening = static_cast<bool>(on_token_);
  for (int32_t id : best.new_ids) {
    tokens_.push_back(id);
    stream_text(id);
    if (listening) listening = on_token_(id, piece_);
  }
  if (!listening) on_token_ = nullptr;  // it asked to stop: not even the held-back text
  result_.sequences = std::move(sequences);
  finish(best.stop_reason);
}

}  // namespace ortlm::engine
