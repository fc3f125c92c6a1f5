// Engine: the one decode loop. Each step either admits the waiting requests that fit and prefills
// them together (their cached prefix loaded from the prefix cache, the rest computed in a KV cache
// of their own, then appended to the running rows), or decodes one token for every running
// sequence; then samples each row (or steps each beam search over its rows), streams its text,
// caches the KV blocks completed, and drops the rows that finished while beams fork (one KV gather
// of the rows that stay).
#include <algorithm>
#include <map>
#include <mutex>
#include <random>

#include "engine/prefix_cache.hpp"
#include "engine/scheduler.hpp"
#include "engine/sequence.hpp"
#include "model/decoder.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"

namespace ortlm {

namespace {

// A seed from the system's entropy source, as llama.cpp draws one when none is given.
uint64_t random_seed() {
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

size_t rows_per_pass(const Model& model, const EngineOptions& options) {
  if (options.max_batch_rows < 1 || options.max_batch_rows > kMaxBatchRows)
    throw Error("max_batch_rows must be in [1, " + std::to_string(kMaxBatchRows) + "], not " +
                std::to_string(options.max_batch_rows));
  if (options.prefill_chunk < 1)
    throw Error("prefill_chunk must be at least 1, not " + std::to_string(options.prefill_chunk));
  if (options.prefix_cache_mib < 0 || options.prefix_cache_mib > kMaxPrefixCacheMib)
    throw Error("prefix_cache_mib must be in [0, " + std::to_string(kMaxPrefixCacheMib) + "], not " +
                std::to_string(options.prefix_cache_mib));
  if (options.kv_block_size < 1 || options.kv_block_size > kMaxKvBlockSize)
    throw Error("kv_block_size must be in [1, " + std::to_string(kMaxKvBlockSize) + "], not " +
                std::to_string(options.kv_block_size));
  return model.decoder().layout.padded_batches ? static_cast<size_t>(options.max_batch_rows) : 1;
}

std::unique_ptr<engine::PrefixCache> make_prefix_cache(const Model& model, const EngineOptions& options) {
  if (options.prefix_cache_mib == 0) return nullptr;
  return std::make_unique<engine::PrefixCache>(
      model.decoder().layout, static_cast<size_t>(options.prefix_cache_mib) << 20, options.kv_block_size);
}

}  // namespace

class Engine::Impl {
 public:
  Impl(std::shared_ptr<const Model> model, const EngineOptions& options)
      : model_(std::move(model)),
        options_(options),
        scheduler_(rows_per_pass(*model_, options),
                   model_->decoder().layout.padding == model::Padding::right),
        runner_(model_->decoder()),
        kv_(model_->decoder().layout),
        prefill_kv_(model_->decoder().layout),
        prefix_cache_(make_prefix_cache(*model_, options)) {
    scratch_logits_.resize(static_cast<size_t>(runner_.vocab_size()));
  }

  RequestId add(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                TokenCallback on_token);
  void abort(RequestId id) {
    std::lock_guard lock(abort_mutex_);
    aborts_.push_back(id);
  }
  bool step();
  bool has_unfinished() const { return !sequences_.empty(); }
  EngineStats stats() const;
  std::vector<std::pair<RequestId, GenerationResult>> take_finished() { return std::exchange(finished_, {}); }

  const Model& model() const { return *model_; }

 private:
  void apply_aborts();
  void prefill();
  void decode();
  // Samples each row of `sequences` from `logits` (their rows in order); beam searches step over
  // their rows.
  void sample_rows(std::span<engine::Sequence* const> sequences, const model::Logits& logits);
  // One beam search step over the group's rows (from `first_row`); ends the sequence when it is over.
  void step_beams(engine::Sequence& sequence, engine::BeamGroup& beams, const model::Logits& logits,
                  size_t first_row);
  void fail(std::span<engine::Sequence* const> sequences, const std::string& why);
  // Finished sequences leave the scheduler; the KV rows of those that stay (and beams' forks) are gathered.
  void drop_finished_rows();
  // The results of the sequences dropped so far.
  void collect_finished();

  std::shared_ptr<const Model> model_;
  EngineOptions options_;
  engine::Scheduler scheduler_;
  model::ModelRunner runner_;
  model::PaddedKvCache kv_;          // the running sequences' rows
  model::PaddedKvCache prefill_kv_;  // the rows of the sequences being prefilled, until they join
  std::unique_ptr<engine::PrefixCache> prefix_cache_;  // null when off
  EngineStats counters_;
  std::map<RequestId, std::unique_ptr<engine::Sequence>> sequences_;  // unfinished or not yet collected
  RequestId next_id_ = 1;
  std::mutex abort_mutex_;
  std::vector<RequestId> aborts_;
  std::vector<std::pair<RequestId, GenerationResult>> finished_;
  // Scratch reused every step: no per-token allocation.
  model::ForwardBatch batch_;
  std::vector<int32_t> kept_rows_;
  std::vector<engine::Sequence*> dropped_;  // finished, out of the scheduler, results not yet taken
  std::vector<float> scratch_logits_;
  std::vector<int64_t> cached_;  // per admitted sequence: prompt tokens loaded from the prefix cache
};

RequestId Engine::Impl::add(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                            TokenCallback on_token) {
  const ModelConfig& config = model_->config();
  std::vector<int32_t> prompt(prompt_ids.begin(), prompt_ids.end());
  if (prompt.empty()) {
    if (!config.bos_token_id) throw Error("empty prompt and the model has no BOS token to start from");
    prompt.push_back(*config.bos_token_id);
  }
  if (config.context_length <= 0)
    throw Error(model_->onnx_path().string() +
                ": the context length is unknown (no max_position_embeddings in config.json, no "
                "context_length in genai_config.json): give it with --context N "
                "(SessionOptions::context_length)");
  if (static_cast<int64_t>(prompt.size()) > config.context_length)
    throw Error("the prompt has " + std::to_string(prompt.size()) +
                " tokens, more than the model's context length " + std::to_string(config.context_length));
  if (options.max_length > 0 && static_cast<size_t>(options.max_length) <= prompt.size())
    throw Error("max_length " + std::to_string(options.max_length) + " must be more than the prompt's " +
                std::to_string(prompt.size()) + " tokens (it counts the prompt)");
  if (is_beam_search(options) && !model_->decoder().layout.batch_dynamic)
    throw Error("num_beams " + std::to_string(options.num_beams) +
                " needs one row per beam in a forward pass, and this graph's batch axis is static");
  for (int32_t id : prompt)
    if (id < 0 || id >= runner_.vocab_size())
      throw Error("prompt token id " + std::to_string(id) + " is outside the model's vocabulary (size " +
                  std::to_string(runner_.vocab_size()) + ")");
  const uint64_t seed = options.seed ? *options.seed : random_seed();
  const RequestId id = next_id_++;
  auto sequence =
      std::make_unique<engine::Sequence>(id, std::move(prompt), options, seed, std::move(on_token),
                                         *model_);  // validates the options
  scheduler_.add(sequence.get());
  if (options.max_new_tokens == 0) {
    sequence->finish(StopReason::max_tokens);
    scheduler_.note_waiting_finished();
  }
  sequences_.emplace(id, std::move(sequence));
  return id;
}

void Engine::Impl::apply_aborts() {
  std::vector<RequestId> ids;
  {
    std::lock_guard lock(abort_mutex_);
    ids.swap(aborts_);
  }
  for (RequestId id : ids) {
    const auto it = sequences_.find(id);
    if (it == sequences_.end()) continue;
    engine::Sequence& sequence = *it->second;
    if (sequence.status() == engine::SequenceStatus::waiting) scheduler_.note_waiting_finished();
    sequence.finish(StopReason::cancelled);
  }
}

bool Engine::Impl::step() {
  apply_aborts();
  drop_finished_rows();
  if (scheduler_.admit())
    prefill();
  else if (!scheduler_.running().empty())
    decode();
  drop_finished_rows();
  collect_finished();
  return has_unfinished();
}

void Engine::Impl::drop_finished_rows() {
  bool changed = false;
  scheduler_.drop_finished(kept_rows_, changed, dropped_);
  if (kept_rows_.empty())
    kv_.clear();
  else if (changed)
    kv_.reorder(kept_rows_);
}

void Engine::Impl::prefill() {
  const auto& group = scheduler_.admitted();
  // Each row's cached prefix is loaded; the rest of its tokens (a preempted or cached sequence
  // resumes from all its ids, a new one from its prompt) are left-padded to the longest and fed in
  // column chunks, every row's last token in the last chunk.
  cached_.assign(group.size(), 0);
  size_t longest = 0;
  int64_t widest = 0;
  for (size_t r = 0; r < group.size(); ++r) {
    if (prefix_cache_) cached_[r] = prefix_cache_->acquire(*group[r]);
    longest = std::max(longest, group[r]->tokens().size() - static_cast<size_t>(cached_[r]));
    widest = std::max(widest, cached_[r]);
    counters_.prompt_tokens += group[r]->tokens().size();
    counters_.cached_prompt_tokens += static_cast<uint64_t>(cached_[r]);
  }
  const auto start = engine::Sequence::Clock::now();
  try {
    prefill_kv_.reset(group.size(), widest + static_cast<int64_t>(longest) + 1);
    if (widest > 0) prefix_cache_->load(group, cached_, prefill_kv_);
    // Right-padded rows (GroupQueryAttention) are prefilled one sequence at a time: see model::Padding.
    const size_t chunk = std::max<size_t>(1, static_cast<size_t>(options_.prefill_chunk) / group.size());
    batch_.rows.resize(group.size());
    const model::Logits* logits = nullptr;
    for (size_t begin = 0; begin < longest; begin += chunk) {
      const size_t end = std::min(longest, begin + chunk);
      for (size_t r = 0; r < group.size(); ++r) {
        const auto rest = group[r]->tokens().subspan(static_cast<size_t>(cached_[r]));
        const size_t pad = longest - rest.size();
        const size_t from = std::clamp(begin, pad, pad + rest.size());
        const size_t to = std::clamp(end, pad, pad + rest.size());
        batch_.rows[r] = {rest.subspan(from - pad, to - from),
                          end == longest ? model::LogitsWanted::last : model::LogitsWanted::none};
      }
      logits = &runner_.run(batch_, prefill_kv_);
    }
    const auto end = engine::Sequence::Clock::now();
    for (size_t r = 0; r < group.size(); ++r)
      group[r]->mark_prefill(start, end, static_cast<size_t>(cached_[r]));
    if (prefix_cache_)
      for (size_t r = 0; r < group.size(); ++r) prefix_cache_->store(*group[r], prefill_kv_, r);
    sample_rows(group, *logits);
    kv_.append(prefill_kv_);
  } catch (const Error& e) {
    fail(group, e.what());
    scheduler_.drop_admitted(dropped_);
    return;
  }
  scheduler_.join();
}

void Engine::Impl::decode() {
  batch_.rows.resize(scheduler_.rows());
  size_t r = 0;
  for (const auto* s : scheduler_.running()) {
    if (const engine::BeamGroup* beams = s->beams())
      for (size_t beam = 0; beam < beams->rows(); ++beam)
        batch_.rows[r++] = {beams->next_input(beam), model::LogitsWanted::last};
    else
      batch_.rows[r++] = {s->tokens().last(1), model::LogitsWanted::last};
  }
  try {
    const auto& logits = runner_.run(batch_, kv_);
    if (prefix_cache_) {  // blocks completed by this pass's tokens (before the new ones are appended)
      size_t row = 0;
      for (auto* s : scheduler_.running()) {
        if (!s->beams()) prefix_cache_->store(*s, kv_, row);
        row += s->rows();
      }
    }
    sample_rows(scheduler_.running(), logits);
  } catch (const Error& e) {
    fail(scheduler_.running(), e.what());
  }
}

void Engine::Impl::sample_rows(std::span<engine::Sequence* const> sequences, const model::Logits& logits) {
  size_t r = 0;
  for (auto* s : sequences) {
    if (engine::BeamGroup* beams = s->beams()) {
      step_beams(*s, *beams, logits, r);
      counters_.generated_tokens += beams->rows();
      r += s->rows();
      continue;
    }
    s->accept(logits.at(r++), scratch_logits_, runner_.context_length());
    ++counters_.generated_tokens;
  }
}

void Engine::Impl::step_beams(engine::Sequence& sequence, engine::BeamGroup& beams,
                              const model::Logits& logits, size_t first_row) {
  try {
    if (beams.step(logits, first_row)) sequence.finish_beams(beams.results());
  } catch (const Error& e) {
    sequence.finish(StopReason::error, e.what());
  }
}

void Engine::Impl::fail(std::span<engine::Sequence* const> sequences, const std::string& why) {
  for (auto* s : sequences) s->finish(StopReason::error, why);
}

EngineStats Engine::Impl::stats() const {
  EngineStats stats = counters_;
  stats.waiting = scheduler_.waiting();
  stats.running = scheduler_.running().size();
  stats.rows = scheduler_.rows();
  if (prefix_cache_) {
    const auto blocks = prefix_cache_->stats();
    stats.blocks_used = blocks.used;
    stats.blocks_cached = blocks.cached;
    stats.blocks_free = blocks.free;
    stats.blocks_evicted = blocks.evictions;
  }
  return stats;
}

void Engine::Impl::collect_finished() {
  for (engine::Sequence* s : dropped_) {
    if (prefix_cache_) prefix_cache_->release(*s);
    const RequestId id = s->id();
    finished_.emplace_back(id, s->take_result());
    sequences_.erase(id);
  }
  dropped_.clear();
}

Engine::Engine(std::shared_ptr<const Model> model, const EngineOptions& options)
    : impl_(std::make_unique<Impl>(std::move(model), options)) {}
Engine::~Engine() = default;

RequestId Engine::add_request(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                              TokenCallback on_token) {
  return impl_->add(prompt_ids, options, std::move(on_token));
}

RequestId Engine::add_request(std::string_view prompt, const GenerationOptions& options,
                              TokenCallback on_token) {
  const Tokenizer* tokenizer = impl_->model().tokenizer();
  if (!tokenizer)
    throw Error(impl_->model().folder().string() +
                ": the model has no tokenizer.json; give token ids instead");
  const auto ids = tokenizer->encode_ids(prompt, true);
  return impl_->add(ids, options, std::move(on_token));
}

void Engine::abort(RequestId id) { impl_->abort(id); }
bool Engine::step() { return impl_->step(); }
bool Engine::has_unfinished() const { return impl_->has_unfinished(); }
EngineStats Engine::stats() const { return impl_->stats(); }
std::vector<std::pair<RequestId, GenerationResult>> Engine::take_finished() { return impl_->take_finished(); }

std::vector<std::pair<RequestId, GenerationResult>> Engine::run() {
  while (impl_->step()) {
  }
  auto results = impl_->take_finished();
  std::sort(results.begin(), results.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return results;
}

}  // namespace ortlm
