#include "engine/beam_search.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::engine {

namespace {

// transformers' stand-in for "no score": the initial score of beams 1.. and of empty hypothesis
// slots, and the penalty that keeps a finished candidate from running on.
constexpr float kNoScore = -1.0e9f;

bool contains(std::span<const int32_t> ids, int32_t id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

}  // namespace

bool BeamGroup::ranks_before(const Candidate& x, const Candidate& y, size_t vocab) {
  // torch.topk leaves the order of ties open; here the lower flat index (beam * vocab + id) wins.
  if (x.score != y.score) return x.score > y.score;
  return x.beam * vocab + static_cast<size_t>(x.id) < y.beam * vocab + static_cast<size_t>(y.id);
}

BeamGroup::BeamGroup(const GenerationOptions& options, std::span<const int32_t> prompt, int32_t vocab_size,
                     std::span<const int32_t> eos_ids, int64_t max_new_tokens, StopReason at_limit)
    : num_beams_(static_cast<size_t>(options.num_beams)),
      num_return_sequences_(static_cast<size_t>(options.num_return_sequences)),
      length_penalty_(options.length_penalty),
      early_stopping_(options.early_stopping),
      prompt_length_(prompt.size()),
      max_new_tokens_(max_new_tokens),
      at_limit_(at_limit),
      stop_at_eos_(options.stop_at_eos),
      eos_ids_(eos_ids.begin(), eos_ids.end()),
      stop_token_ids_(options.stop_token_ids),
      processors_(options, vocab_size, eos_ids) {
  // transformers keeps max(2, 1 + n_eos) * num_beams candidates, so that num_beams of them are left to
  // run on even when every beam's best ones are eos ids; here every stop id counts as an eos id.
  std::vector<int32_t> stop_ids = stop_token_ids_;
  if (stop_at_eos_) stop_ids.insert(stop_ids.end(), eos_ids_.begin(), eos_ids_.end());
  std::sort(stop_ids.begin(), stop_ids.end());
  const size_t stops = static_cast<size_t>(std::unique(stop_ids.begin(), stop_ids.end()) - stop_ids.begin());
  keep_ = std::max<size_t>(2, 1 + stops) * num_beams_;
  beams_.resize(num_beams_);
  next_beams_.resize(num_beams_);
  const size_t longest = prompt.size() + static_cast<size_t>(std::max<int64_t>(max_new_tokens, 0));
  for (size_t b = 0; b < num_beams_; ++b) {
    beams_[b].tokens.reserve(longest);
    next_beams_[b].tokens.reserve(longest);
    beams_[b].tokens.assign(prompt.begin(), prompt.end());
    // Only beam 0 is live at the first step: the others would repeat its candidates.
    beams_[b].score = b == 0 ? 0.0f : kNoScore;
  }
  finished_.reserve(num_beams_ + 1);
  sources_.assign(1, 0);  // the prompt's row, as it is
}

bool BeamGroup::is_stop(int32_t id) const {
  return (stop_at_eos_ && contains(eos_ids_, id)) || contains(stop_token_ids_, id);
}

StopReason BeamGroup::stop_reason(std::span<const int32_t> new_ids) const {
  if (!new_ids.empty() && stop_at_eos_ && contains(eos_ids_, new_ids.back())) return StopReason::eos;
  if (!new_ids.empty() && contains(stop_token_ids_, new_ids.back())) return StopReason::stop_token;
  return at_limit_;
}

float BeamGroup::length_penalised(float score, int64_t length) const {
  return score /
         static_cast<float>(std::pow(static_cast<double>(length), static_cast<double>(length_penalty_)));
}

void BeamGroup::score_row(std::span<const float> logits, const Beam& beam) {
  // Two passes the compiler vectorises: the check (false for NaN too), then the max in 8 lanes.
  bool finite = true;
  for (float v : logits) finite &= v < INFINITY;
  float lanes[8] = {-INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY, -INFINITY};
  size_t at = 0;
  for (; at + 8 <= logits.size(); at += 8)
    for (size_t k = 0; k < 8; ++k) lanes[k] = lanes[k] < logits[at + k] ? logits[at + k] : lanes[k];
  for (; at < logits.size(); ++at) lanes[0] = lanes[0] < logits[at] ? logits[at] : lanes[0];
  const float max = *std::max_element(std::begin(lanes), std::end(lanes));
  if (!finite) {
    size_t bad = 0;
    while (logits[bad] < INFINITY) ++bad;
    throw Error("the model produced a non-finite logit (" + std::to_string(logits[bad]) + " for token id " +
                std::to_string(bad) + " after " + std::to_string(beam.tokens.size()) +
                " tokens): its weights or its export are broken");
  }
  // log_softmax as torch computes it: (x - max) - log(sum(exp(x - max))). Eight partial sums: one
  // chain of dependent additions would wait on each.
  double sums[8] = {};
  const size_t n = logits.size();
  size_t next = 0;
  for (; next + 8 <= n; next += 8)
    for (size_t k = 0; k < 8; ++k) sums[k] += std::exp(logits[next + k] - max);
  for (; next < n; ++next) sums[0] += std::exp(logits[next] - max);
  double sum = 0;
  for (double part : sums) sum += part;
  const auto log_sum = static_cast<float>(std::log(sum));
  scratch_.resize(logits.size());
  for (size_t i = 0; i < logits.size(); ++i) scratch_[i] = (logits[i] - max) - log_sum;
  processors_.apply(scratch_, beam.tokens, prompt_length_);
}

void BeamGroup::push_candidates(uint32_t b) {
  const auto better = [vocab = vocab_](const Candidate& x, const Candidate& y) {
    return ranks_before(x, y, vocab);
  };
  const float base = beams_[b].score;
  for (size_t id = 0; id < scratch_.size(); ++id) {
    const Candidate c{base + scratch_[id], b, static_cast<int32_t>(id)};
    if (top_.size() == keep_ && c.score < top_.front().score) continue;  // most ids: below the worst kept
    if (top_.size() < keep_) {
      top_.push_back(c);
      std::push_heap(top_.begin(), top_.end(), better);  // the worst kept candidate on top
    } else if (better(c, top_.front())) {
      std::pop_heap(top_.begin(), top_.end(), better);
      top_.back() = c;
      std::push_heap(top_.begin(), top_.end(), better);
    }
  }
}

void BeamGroup::add_hypothesis(const Beam& beam, int32_t id, float score) {
  // An empty slot of transformers' finished list holds -1e9 and outranks a worse score; a full list
  // takes only a better one than its worst (on a tie the older one stays).
  if (!(score > kNoScore)) return;
  if (finished_.size() == num_beams_ && !(score > finished_.back().score)) return;
  Hypothesis h{{beam.tokens.begin() + static_cast<ptrdiff_t>(prompt_length_), beam.tokens.end()}, score};
  h.new_ids.push_back(id);
  const auto at = std::upper_bound(finished_.begin(), finished_.end(), score,
                                   [](float s, const Hypothesis& other) { return s > other.score; });
  finished_.insert(at, std::move(h));
  if (finished_.size() > num_beams_) finished_.pop_back();
}

bool BeamGroup::step(const model::Logits& logits, size_t first_row) {
  vocab_ = static_cast<size_t>(logits.vocab());
  const bool first = generated_ == 0;
  top_.clear();
  for (uint32_t b = 0; b < num_beams_; ++b) {
    // At the first step every beam is the prompt (one row): beam 0's log-probs serve them all.
    if (!first || b == 0) score_row(logits.at(first_row + (first ? 0 : b)), beams_[b]);
    push_candidates(b);
  }
  std::sort(top_.begin(), top_.end(),
            [vocab = vocab_](const Candidate& x, const Candidate& y) { return ranks_before(x, y, vocab); });
  if (top_.empty() || top_.front().score == -INFINITY)
    throw Error(
        "no token is left to choose: every logit is -inf (barred by bad_words_ids, no_repeat_ngram_size "
        "or min_new_tokens, or by the model)");

  const auto length = static_cast<int64_t>(generated_ + 1);  // new ids of every candidate
  const bool at_limit = length >= max_new_tokens_;
  hits_.resize(top_.size());
  bool all_hit = true;
  for (size_t i = 0; i < top_.size(); ++i) {
    hits_[i] = at_limit || is_stop(top_[i].id);
    all_hit = all_hit && hits_[i];
  }

  // Finished hypotheses: hits among the top num_beams only (the others are a reserve to run on).
  for (size_t i = 0; i < std::min(num_beams_, top_.size()); ++i)
    if (hits_[i]) add_hypothesis(beams_[top_[i].beam], top_[i].id, length_penalised(top_[i].score, length));

  // The next beams: the best num_beams candidates, hits pushed down by -1e9.
  order_.resize(top_.size());
  std::iota(order_.begin(), order_.end(), size_t{0});
  const auto running_score = [this](size_t i) { return top_[i].score + (hits_[i] ? kNoScore : 0.0f); };
  std::stable_sort(order_.begin(), order_.end(),
                   [&](size_t x, size_t y) { return running_score(x) > running_score(y); });
  sources_.resize(num_beams_);
  for (size_t j = 0; j < num_beams_; ++j) {
    const size_t i = order_[j % order_.size()];
    const Beam& from = beams_[top_[i].beam];
    next_beams_[j].tokens.assign(from.tokens.begin(), from.tokens.end());
    next_beams_[j].tokens.push_back(top_[i].id);
    next_beams_[j].score = running_score(i);
    sources_[j] = first ? 0 : static_cast<int32_t>(top_[i].beam);
  }
  std::swap(beams_, next_beams_);
  ++generated_;

  // transformers' _check_early_stop_heuristic: can the best running beam still beat the worst
  // finished hypothesis? It is judged at its current length, or (early_stopping never, with a
  // positive length_penalty) at the longest length it may reach.
  const int64_t judged_length = early_stopping_ == EarlyStopping::never && length_penalty_ > 0.0f
                                    ? max_new_tokens_
                                    : static_cast<int64_t>(generated_);
  const float best_possible = length_penalised(beams_[0].score, judged_length);
  const float worst_finished = finished_.size() < num_beams_ ? kNoScore : finished_.back().score;
  improvable_ = improvable_ && best_possible > worst_finished;
  const bool full = finished_.size() == num_beams_;
  return !improvable_ || (early_stopping_ == EarlyStopping::on && full) || all_hit;
}

void BeamGroup::gathered() {
  rows_ = sources_.size();
  std::iota(sources_.begin(), sources_.end(), 0);
}

std::vector<ReturnedSequence> BeamGroup::results() const {
  std::vector<ReturnedSequence> out;
  for (size_t i = 0; i < std::min(num_return_sequences_, finished_.size()); ++i) {
    const Hypothesis& h = finished_[i];
    out.push_back({h.new_ids, {}, h.score, stop_reason(h.new_ids)});
  }
  if (out.empty()) {  // only when every candidate scored -1e9 or less: the best running beam then
    const Beam& best = beams_[0];
    std::vector<int32_t> ids(best.tokens.begin() + static_cast<ptrdiff_t>(prompt_length_), best.tokens.end());
    const float score = length_penalised(best.score, static_cast<int64_t>(std::max<size_t>(generated_, 1)));
    out.push_back({ids, {}, score, stop_reason(ids)});
  }
  return out;
}

}  // namespace ortlm::engine
