// The C API's engine: many requests per forward pass, stepped by the caller (include/ortlm/ortlm.h).
#include <deque>
#include <map>
#include <mutex>
#include <utility>

#include "capi/capi_internal.hpp"

namespace ortlm::capi {

std::unique_ptr<ortlm_result> make_result(GenerationResult&& result) {
  auto out = std::make_unique<ortlm_result>();
  out->result = std::move(result);
  for (const auto& step : out->result.logprobs) {
    auto& top = out->top.emplace_back();
    for (const auto& t : step.top) top.push_back({t.id, t.logprob});
  }
  return out;
}

namespace {

constexpr size_t kEngineOptionsV1Size = offsetof(ortlm_engine_options, prefill_chunk) + sizeof(int32_t);

// Whether a caller's struct of `struct_size` bytes has the field at `offset` of `size` bytes (a
// caller built against an older API passes a shorter struct: its missing fields keep our defaults).
bool has_field(size_t struct_size, size_t offset, size_t size) { return struct_size >= offset + size; }
#define ORTLM_HAS(c, field) \
  has_field((c)->struct_size, offsetof(ortlm_engine_options, field), sizeof((c)->field))

EngineOptions engine_options(const ortlm_engine_options* c, const char* fn) {
  EngineOptions options;
  if (!c) return options;
  check_struct_size(c->struct_size, kEngineOptionsV1Size, sizeof(ortlm_engine_options), fn, "options");
  options.max_batch_rows = c->max_batch_rows;
  options.prefill_chunk = c->prefill_chunk;
  if (ORTLM_HAS(c, prefix_cache_mib)) options.prefix_cache_mib = c->prefix_cache_mib;
  if (ORTLM_HAS(c, kv_block_size)) options.kv_block_size = c->kv_block_size;
  if (ORTLM_HAS(c, kv_cache)) {
    if (c->kv_cache < ORTLM_KV_CACHE_DENSE || c->kv_cache > ORTLM_KV_CACHE_AUTO)
      fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": options->kv_cache " +
                                             std::to_string(c->kv_cache) + " is not an ortlm_kv_cache");
    options.kv_cache = c->kv_cache == ORTLM_KV_CACHE_PAGED  ? KvCacheKind::paged
                       : c->kv_cache == ORTLM_KV_CACHE_AUTO ? KvCacheKind::automatic
                                                            : KvCacheKind::dense;
  }
  if (ORTLM_HAS(c, kv_cache_mib)) options.kv_cache_mib = c->kv_cache_mib;
  return options;
}
#undef ORTLM_HAS

}  // namespace
}  // namespace ortlm::capi

using namespace ortlm;
using namespace ortlm::capi;

struct ortlm_engine {
  std::shared_ptr<SharedModel> shared;
  Engine engine;
  // Each streaming request's callback text, until its result is taken.
  std::map<RequestId, std::unique_ptr<std::string>> pieces;
  std::deque<std::pair<RequestId, GenerationResult>> finished;
  bool stepping = false;
};

namespace {

ortlm_status add_request(const char* fn, ortlm_engine* engine, std::span<const int32_t> prompt_ids,
                         const std::string_view* prompt_text, const ortlm_generation_options* c_options,
                         ortlm_token_callback callback, void* user_data, uint64_t* out_request_id) {
  return guard(ORTLM_ERROR_MODEL, [&] {
    require(out_request_id, fn, "out_request_id") = 0;
    ortlm_engine& e = require(engine, fn, "engine");
    const CheckedRequest request = check_request(*e.shared->model, prompt_ids, prompt_text, c_options, fn);
    // The text of one callback lives as long as the request (the engine calls it from step()).
    auto piece = std::make_unique<std::string>();
    const RequestId id =
        e.engine.add_request(request.ids(), request.options, token_callback(callback, user_data, *piece));
    if (callback) e.pieces.emplace(id, std::move(piece));
    *out_request_id = id;
  });
}

}  // namespace

extern "C" {

ortlm_status ortlm_engine_options_init(ortlm_engine_options* options, size_t struct_size) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    const EngineOptions defaults;
    ortlm_engine_options c{};
    c.max_batch_rows = defaults.max_batch_rows;
    c.prefill_chunk = defaults.prefill_chunk;
    c.prefix_cache_mib = defaults.prefix_cache_mib;
    c.kv_block_size = defaults.kv_block_size;
    c.kv_cache = ORTLM_KV_CACHE_DENSE;
    c.kv_cache_mib = defaults.kv_cache_mib;
    write_defaults(options, struct_size, c, kEngineOptionsV1Size, "ortlm_engine_options_init");
  });
}

ortlm_status ortlm_engine_create(ortlm_model* model, const ortlm_engine_options* options,
                                 ortlm_engine** out_engine) {
  constexpr const char* fn = "ortlm_engine_create";
  return guard(ORTLM_ERROR_INVALID_ARGUMENT, [&] {
    require(out_engine, fn, "out_engine") = nullptr;
    const auto& shared = require(model, fn, "model").shared;
    const EngineOptions engine = engine_options(options, fn);
    *out_engine = new ortlm_engine{shared, Engine(shared->model, engine), {}, {}, false};
  });
}

void ortlm_engine_free(ortlm_engine* engine) { delete engine; }

ortlm_status ortlm_engine_add_request(ortlm_engine* engine, const int32_t* prompt_ids, size_t prompt_count,
                                      const ortlm_generation_options* options, ortlm_token_callback callback,
                                      void* user_data, uint64_t* out_request_id) {
  constexpr const char* fn = "ortlm_engine_add_request";
  const ortlm_status checked =
      guard(ORTLM_ERROR_INTERNAL, [&] { require_array(prompt_ids, prompt_count, fn, "prompt_ids"); });
  if (checked != ORTLM_OK) return checked;
  return add_request(fn, engine, std::span<const int32_t>(prompt_ids, prompt_count), nullptr, options,
                     callback, user_data, out_request_id);
}

ortlm_status ortlm_engine_add_request_text(ortlm_engine* engine, const char* prompt, size_t prompt_length,
                                           const ortlm_generation_options* options,
                                           ortlm_token_callback callback, void* user_data,
                                           uint64_t* out_request_id) {
  constexpr const char* fn = "ortlm_engine_add_request_text";
  const ortlm_status checked =
      guard(ORTLM_ERROR_INTERNAL, [&] { require_array(prompt, prompt_length, fn, "prompt"); });
  if (checked != ORTLM_OK) return checked;
  const std::string_view text(prompt ? prompt : "", prompt_length);
  return add_request(fn, engine, {}, &text, options, callback, user_data, out_request_id);
}

ortlm_status ortlm_engine_get_stats(const ortlm_engine* engine, ortlm_engine_stats* stats) {
  constexpr const char* fn = "ortlm_engine_get_stats";
  return guard(ORTLM_ERROR_INVALID_ARGUMENT, [&] {
    const ortlm_engine& e = require(engine, fn, "engine");
    ortlm_engine_stats& out = require(stats, fn, "stats");
    check_struct_size(out.struct_size, sizeof(ortlm_engine_stats), sizeof(ortlm_engine_stats), fn, "stats");
    const EngineStats s = e.engine.stats();
    out.waiting = s.waiting;
    out.running = s.running;
    out.prompt_tokens = s.prompt_tokens;
    out.cached_prompt_tokens = s.cached_prompt_tokens;
    out.generated_tokens = s.generated_tokens;
    out.blocks_used = s.blocks_used;
    out.blocks_cached = s.blocks_cached;
    out.blocks_free = s.blocks_free;
    out.paged = s.paged ? 1 : 0;
    out.preemptions = s.preemptions;
  });
}

ortlm_status ortlm_engine_abort(ortlm_engine* engine, uint64_t request_id) {
  return guard(ORTLM_ERROR_INTERNAL,
               [&] { require(engine, "ortlm_engine_abort", "engine").engine.abort(request_id); });
}

ortlm_status ortlm_engine_step(ortlm_engine* engine, int* out_has_unfinished) {
  constexpr const char* fn = "ortlm_engine_step";
  return guard(ORTLM_ERROR_MODEL, [&] {
    if (out_has_unfinished) *out_has_unfinished = 0;
    ortlm_engine& e = require(engine, fn, "engine");
    if (e.stepping) fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": called from a token callback");
    bool unfinished = false;
    {
      CallbackScope scope(e.stepping);
      unfinished = e.engine.step();
    }
    for (auto& done : e.engine.take_finished()) e.finished.push_back(std::move(done));
    if (out_has_unfinished) *out_has_unfinished = unfinished ? 1 : 0;
  });
}

ortlm_status ortlm_engine_take_finished(ortlm_engine* engine, uint64_t* out_request_id,
                                        ortlm_result** out_result) {
  constexpr const char* fn = "ortlm_engine_take_finished";
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_request_id, fn, "out_request_id") = 0;
    require(out_result, fn, "out_result") = nullptr;
    ortlm_engine& e = require(engine, fn, "engine");
    if (e.finished.empty()) return;
    auto result = make_result(std::move(e.finished.front().second));
    *out_request_id = e.finished.front().first;
    e.pieces.erase(*out_request_id);
    e.finished.pop_front();
    *out_result = result.release();
  });
}

}  // extern "C"
