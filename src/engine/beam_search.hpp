#pragma once
// Beam search for one request, with the semantics of Hugging Face transformers' _beam_search
// (transformers/src/transformers/generation/utils.py, read at commit 000034a44ef8, the vectorised
// rewrite that replaced BeamSearchScorer/BeamHypotheses). Each step:
//   - every beam's scores are log_softmax(logits), then the logits processors (LogitsProcessors,
//     run on the log-probs as transformers runs its processors), plus the beam's running score; at
//     the first step only beam 0 is live (the others start at -1e9);
//   - the top K = max(2, 1 + number of stop ids) * num_beams candidates over all beams are kept;
//   - a candidate "hits a stopping criterion" when its id is a stop id (eos, stop_token_ids) or it
//     reaches the length limit. Hits among the top num_beams become finished hypotheses scored
//     sum_logprobs / generated_length^length_penalty, where generated_length counts the new ids
//     including the last one (cur_len + 1 - decoder_prompt_len in transformers); at most num_beams
//     hypotheses are kept, the best;
//   - the next beams are the best num_beams candidates that did not hit one (a hit's score gets
//     -1e9, so hits continue only when too few others exist);
//   - the search ends when every candidate hits (the length limit: this is where transformers'
//     old "running beams are added at the end" now happens), when early_stopping is on and
//     num_beams hypotheses are finished, or when the heuristic says no running beam can improve
//     them (EarlyStopping in generator.hpp).
// The best num_return_sequences hypotheses are returned, best first.
//
// The group holds num_beams KV rows of the engine's wave. The prompt is prefilled once, in one row;
// the first step forks it into num_beams rows, and every later step gathers the rows the chosen
// beams continue (the engine's KV reorder): no beam's prefix is ever computed again.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "engine/logits_processors.hpp"
#include "model/forward_batch.hpp"
#include "ortlm/generator.hpp"

namespace ortlm::engine {

class BeamGroup {
 public:
  // `options` passed validate() and have num_beams > 1. `prompt` is the request's ids; `eos_ids` are
  // the model's. A hypothesis has at most `max_new_tokens` new ids (the tightest of max_new_tokens,
  // max_length and the context); one that reaches it ends with `at_limit`.
  BeamGroup(const GenerationOptions& options, std::span<const int32_t> prompt, int32_t vocab_size,
            std::span<const int32_t> eos_ids, int64_t max_new_tokens, StopReason at_limit);

  // KV rows the group holds now: 1 (the prompt) until the first step's rows are gathered, then num_beams.
  size_t rows() const { return rows_; }
  size_t max_rows() const { return num_beams_; }
  // The id row `row` feeds next (its beam's last id), valid until the next step.
  std::span<const int32_t> next_input(size_t row) const { return {&beams_[row].tokens.back(), 1}; }

  // One step on the logits of the group's rows (rows first_row .. first_row + rows() - 1 of
  // `logits`). Returns whether the search is over. Throws ortlm::Error for non-finite logits, or when
  // the processors left no token to choose.
  bool step(const model::Logits& logits, size_t first_row);
  // After a step that did not end the search: for each row the group holds next, the row (of those
  // it held) whose KV it continues. The caller gathers the KV rows so, then calls gathered().
  std::span<const int32_t> source_rows() const { return sources_; }
  void gathered();
  // Whether `sources` (KV rows the rows continue) moves any: it is not 0, 1, ..., rows - 1.
  static bool moves_rows(std::span<const int32_t> sources, size_t rows) {
    if (sources.size() != rows) return true;
    for (size_t r = 0; r < rows; ++r)
      if (sources[r] != static_cast<int32_t>(r)) return true;
    return false;
  }

  // Once the search is over: the best num_return_sequences hypotheses, best first (texts empty).
  std::vector<ReturnedSequence> results() const;

 private:
  struct Beam {
    std::vector<int32_t> tokens;  // prompt + generated
    float score = 0;              // sum of the generated ids' (processed) log-probs
  };
  struct Candidate {
    float score;  // the beam's score + this id's log-prob
    uint32_t beam;
    int32_t id;
  };
  struct Hypothesis {
    std::vector<int32_t> new_ids;
    float score;  // length-penalised
  };

  // The candidates' order: the higher score first.
  static bool ranks_before(const Candidate& x, const Candidate& y, size_t vocab);
  // scratch_ = the processed log-probs of `beam` given its row's logits.
  void score_row(std::span<const float> logits, const Beam& beam);
  // Keeps the `keep_` best candidates of beam `b` (scores in scratch_) in the heap top_.
  void push_candidates(uint32_t b);
  void add_hypothesis(const Beam& beam, int32_t id, float score);
  float length_penalised(float score, int64_t length) const;
  bool is_stop(int32_t id) const;
  StopReason stop_reason(std::span<const int32_t> new_ids) const;

  size_t num_beams_;
  size_t num_return_sequences_;
  float length_penalty_;
  EarlyStopping early_stopping_;
  size_t prompt_length_;
  int64_t max_new_tokens_;
  StopReason at_limit_;
  bool stop_at_eos_;
  std::vector<int32_t> eos_ids_, stop_token_ids_;
  size_t keep_;  // K: candidates kept per step
  LogitsProcessors processors_;

  size_t generated_ = 0;
  size_t rows_ = 1;
  bool improvable_ = true;  // transformers' is_early_stop_heuristic_unsatisfied
  std::vector<Beam> beams_, next_beams_;
  std::vector<int32_t> sources_;
  std::vector<Hypothesis> finished_;  // best first, at most num_beams
  // Per-step scratch, reused.
  std::vector<float> scratch_;
  std::vector<Candidate> top_;
  std::vector<uint8_t> hits_;
  std::vector<size_t> order_;
  size_t vocab_ = 0;
};

}  // namespace ortlm::engine
