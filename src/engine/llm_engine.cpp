// Engine: the one decode loop. Each step admits the waiting requests that fit and runs the forward
// pass(es) of its KV backend (engine/dense_backend: prefill and decode in passes of their own, KV in
// padded dense rows; engine/paged_backend: decode rows and prefill chunks packed in one pass over a
// paged block pool); then samples each row (or steps each beam search over its rows), streams its
// text, and drops the sequences that finished while the KV follows the beams' forks.
#include <algorithm>
#include <map>
#include <mutex>
#include <random>

#include "engine/dense_backend.hpp"
#include "engine/kv_backend.hpp"
#include "engine/paged_backend.hpp"
#include "engine/scheduler.hpp"
#include "engine/sequence.hpp"
#include "model/decoder.hpp"
#include "model/paged_session.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"

namespace ortlm {

namespace {

// A seed from the system's entropy source, as llama.cpp draws one when none is given.
uint64_t random_seed() {
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

void check(const EngineOptions& options) {
  auto in_range = [](const char* name, int32_t value, int32_t low, int32_t high) {
    if (value < low || value > high)
      throw Error(std::string(name) + " must be in [" + std::to_string(low) + ", " + std::to_string(high) +
                  "], not " + std::to_string(value));
  };
  in_range("max_batch_rows", options.max_batch_rows, 1, kMaxBatchRows);
  in_range("prefill_chunk", options.prefill_chunk, 1, INT32_MAX);
  in_range("prefix_cache_mib", options.prefix_cache_mib, 0, kMaxPrefixCacheMib);
  in_range("kv_block_size", options.kv_block_size, 1, kMaxKvBlockSize);
  in_range("kv_cache_mib", options.kv_cache_mib, 0, kMaxPrefixCacheMib);
}

// The paged backend where asked for and possible (the model's paged session is built on first use).
std::unique_ptr<engine::KvBackend> make_backend(const Model& model, const EngineOptions& options) {
  check(options);
  if (options.kv_cache != KvCacheKind::dense) {
    model::PagedSession& paged = model.paged_session();
    if (paged.session)
      return std::make_unique<engine::PagedBackend>(*paged.session, model.decoder_as_loaded(), options);
    if (options.kv_cache == KvCacheKind::paged)
      throw Error(model.onnx_path().string() + ": paged KV is not available for this graph (" + paged.note +
                  ")");
  }
  return std::make_unique<engine::DenseBackend>(model.decoder(), options);
}

}  // namespace

class Engine::Impl final : engine::StepSink {
 public:
  Impl(std::shared_ptr<const Model> model, const EngineOptions& options)
      : model_(std::move(model)),
        backend_(make_backend(*model_, options)),
        scheduler_(backend_->make_scheduler()),
        vocab_size_(static_cast<int32_t>(model_->decoder_as_loaded().layout.vocab_size)),
        context_length_(model_->decoder_as_loaded().context_length) {
    scratch_logits_.resize(static_cast<size_t>(std::max(vocab_size_, 1)));
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
  void sample(std::span<engine::Sequence* const> sequences, const model::Logits& logits,
              size_t first_row) override;
  void fail(std::span<engine::Sequence* const> sequences, const std::string& why) override;
  // One beam search step over the group's rows (from `first_row`); ends the sequence when it is over.
  void step_beams(engine::Sequence& sequence, engine::BeamGroup& beams, const model::Logits& logits,
                  size_t first_row);
  // The results of the sequences dropped so far.
  void collect_finished();

  std::shared_ptr<const Model> model_;
  std::unique_ptr<engine::KvBackend> backend_;
  engine::Scheduler scheduler_;
  int32_t vocab_size_, context_length_;
  uint64_t generated_tokens_ = 0;
  std::map<RequestId, std::unique_ptr<engine::Sequence>> sequences_;  // unfinished or not yet collected
  RequestId next_id_ = 1;
  std::mutex abort_mutex_;
  std::vector<RequestId> aborts_;
  std::vector<std::pair<RequestId, GenerationResult>> finished_;
  // Scratch reused every step: no per-token allocation.
  std::vector<engine::Sequence*> dropped_;  // finished, out of the scheduler, results not yet taken
  std::vector<float> scratch_logits_;
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
  if (is_beam_search(options) && !model_->decoder_as_loaded().layout.batch_dynamic)
    throw Error("num_beams " + std::to_string(options.num_beams) +
                " needs one row per beam in a forward pass, and this graph's batch axis is static");
  for (int32_t id : prompt)
    if (id < 0 || id >= vocab_size_)
      throw Error("prompt token id " + std::to_string(id) + " is outside the model's vocabulary (size " +
                  std::to_string(vocab_size_) + ")");
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
  backend_->drop_finished(scheduler_, dropped_);
  backend_->step(scheduler_, *this);
  backend_->drop_finished(scheduler_, dropped_);
  collect_finished();
  return has_unfinished();
}

void Engine::Impl::sample(std::span<engine::Sequence* const> sequences, const model::Logits& logits,
                          size_t first_row) {
  size_t r = first_row;
  for (auto* s : sequences) {
    if (engine::BeamGroup* beams = s->beams()) {
      step_beams(*s, *beams, logits, r);
      generated_tokens_ += beams->rows();
      r += s->rows();
      continue;
    }
    s->accept(logits.at(r++), scratch_logits_, context_length_);
    ++generated_tokens_;
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
  EngineStats stats;
  stats.waiting = scheduler_.waiting();
  stats.running = scheduler_.running().size() + scheduler_.admitted().size();  // prefilling too
  stats.rows = scheduler_.rows();
  stats.generated_tokens = generated_tokens_;
  backend_->add_stats(stats);
  return stats;
}

void Engine::Impl::collect_finished() {
  for (engine::Sequence* s : dropped_) {
    backend_->release(*s);
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
