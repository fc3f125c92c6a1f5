// The C API's generation functions: options, generators, generate, results (include/ortlm/ortlm.h).
#include <algorithm>
#include <cstddef>
#include <span>
#include <vector>

#include "capi/capi_internal.hpp"

namespace ortlm::capi {

namespace {

// Every field of the first version of the struct; later fields are read only when struct_size
// covers them.
constexpr size_t kGenerationOptionsV1Size =
    offsetof(ortlm_generation_options, stop_string_count) + sizeof(size_t);

// Set while ortlm_generate runs on this thread: a token callback calling it again would re-enter
// its own generator.
thread_local bool generating = false;

}  // namespace

GenerationOptions generation_options(const ortlm_generation_options* c, const char* fn) {
  GenerationOptions options;
  if (!c) return options;
  check_struct_size(c->struct_size, kGenerationOptionsV1Size, sizeof(ortlm_generation_options), fn,
                    "options");
  options.max_new_tokens = c->max_new_tokens;
  options.greedy = c->greedy != 0;
  options.temperature = c->temperature;
  options.top_k = c->top_k;
  options.top_p = c->top_p;
  options.min_p = c->min_p;
  options.repetition_penalty = c->repetition_penalty;
  if (c->has_seed) options.seed = c->seed;
  options.stop_at_eos = c->stop_at_eos != 0;
  require_array(c->stop_token_ids, c->stop_token_id_count, fn, "options->stop_token_ids");
  if (c->stop_token_id_count)
    options.stop_token_ids.assign(c->stop_token_ids, c->stop_token_ids + c->stop_token_id_count);
  require_array(c->stop_strings, c->stop_string_count, fn, "options->stop_strings");
  for (size_t i = 0; i < c->stop_string_count; ++i) {
    const std::string at = "options->stop_strings[" + std::to_string(i) + "]";
    require(c->stop_strings[i], fn, at.c_str());
    options.stop_strings.emplace_back(c->stop_strings[i]);
  }
  if (ORTLM_HAS_FIELD(c, logprobs)) {  // API version 2
    options.typical_p = c->typical_p;
    options.no_repeat_ngram_size = c->no_repeat_ngram_size;
    options.min_new_tokens = c->min_new_tokens;
    options.presence_penalty = c->presence_penalty;
    options.frequency_penalty = c->frequency_penalty;
    options.logprobs = c->logprobs;
    options.max_length = c->max_length;
    options.num_beams = c->num_beams;
    options.num_return_sequences = c->num_return_sequences;
    options.length_penalty = c->length_penalty;
    switch (c->early_stopping) {
      case ORTLM_EARLY_STOPPING_HEURISTIC:
        options.early_stopping = EarlyStopping::heuristic;
        break;
      case ORTLM_EARLY_STOPPING_ON:
        options.early_stopping = EarlyStopping::on;
        break;
      case ORTLM_EARLY_STOPPING_NEVER:
        options.early_stopping = EarlyStopping::never;
        break;
      default:
        fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": options->early_stopping " +
                                               std::to_string(c->early_stopping) +
                                               " is not an ortlm_early_stopping");
    }
  }
  return options;
}

namespace {

// Checks what the C++ API would reject as a generic error, so that the caller gets
// INVALID_ARGUMENT (its own mistake) rather than ORTLM_ERROR_MODEL.
void check_prompt_and_options(const Model& model, std::span<const int32_t> prompt, GenerationOptions& options,
                              const char* fn) {
  const ModelConfig& config = model.config();
  try {
    validate(options, config.vocab_size);
  } catch (const Error& e) {
    fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": options: " + e.what());
  }
  for (size_t i = 0; i < prompt.size(); ++i)
    if (prompt[i] < 0 || prompt[i] >= config.vocab_size)
      fail(ORTLM_ERROR_INVALID_ARGUMENT,
           std::string(fn) + ": prompt id " + std::to_string(prompt[i]) + " (at " + std::to_string(i) +
               ") is outside the vocabulary [0, " + std::to_string(config.vocab_size) + ")");
  if (prompt.empty() && !config.bos_token_id)
    fail(ORTLM_ERROR_INVALID_ARGUMENT,
         std::string(fn) + ": the prompt is empty and the model has no BOS token");
  if (config.context_length > 0 && prompt.size() > static_cast<size_t>(config.context_length))
    fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": the prompt has " + std::to_string(prompt.size()) +
                                           " tokens, more than the model's context length " +
                                           std::to_string(config.context_length));
  // Generation ends at the context length anyway; a larger limit would only make the generator
  // reserve memory for tokens it can never produce. Results are unchanged (the +1 keeps the stop
  // reason context_full where the context, not the limit, ends generation).
  if (config.context_length > 0)
    options.max_new_tokens = std::min(options.max_new_tokens, config.context_length + 1);
}

std::vector<int32_t> encode_prompt(const Model& model, std::string_view text, const char* fn) {
  const Tokenizer* tokenizer = model.tokenizer();
  if (!tokenizer)
    fail(ORTLM_ERROR_NOT_FOUND, std::string(fn) + ": " + model.folder().string() +
                                    ": the model has no tokenizer.json; give token ids");
  try {
    return tokenizer->encode_ids(text, true);  // as Generator::generate(text) encodes
  } catch (const Error& e) {
    fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": prompt: " + e.what());
  }
}

}  // namespace

CheckedRequest check_request(const Model& model, std::span<const int32_t> ids, const std::string_view* text,
                             const ortlm_generation_options* options, const char* fn) {
  CheckedRequest request;
  request.options = generation_options(options, fn);
  request.given = ids;
  request.from_text = text != nullptr;
  if (text) request.encoded = encode_prompt(model, *text, fn);
  check_prompt_and_options(model, request.ids(), request.options, fn);
  return request;
}

TokenCallback token_callback(ortlm_token_callback callback, void* user_data, std::string& piece) {
  if (!callback) return {};
  return [callback, user_data, &piece](int32_t id, std::string_view text) {
    piece.assign(text);
    return callback(id, piece.c_str(), piece.size(), user_data) == 0;
  };
}

namespace {

// The shared body of ortlm_generate and ortlm_generate_text; `prompt_text` is set for the latter.
ortlm_status generate(const char* fn, ortlm_generator* generator, std::span<const int32_t> prompt_ids,
                      const std::string_view* prompt_text, const ortlm_generation_options* c_options,
                      ortlm_token_callback callback, void* user_data, ortlm_result** out_result) {
  // What fails once the request is checked is the model's run (ONNX Runtime).
  return guard(ORTLM_ERROR_MODEL, [&] {
    require(out_result, fn, "out_result") = nullptr;
    ortlm_generator& g = require(generator, fn, "generator");
    if (generating)
      fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(fn) + ": called from a token callback (not allowed)");
    const CheckedRequest request = check_request(*g.shared->model, prompt_ids, prompt_text, c_options, fn);
    GenerationResult generated;
    {
      CallbackScope scope(generating);
      generated =
          g.generator.generate(request.ids(), request.options, token_callback(callback, user_data, g.piece));
    }
    *out_result = make_result(std::move(generated)).release();
  });
}

const GenerationResult& result_of(const ortlm_result* result, const char* fn) {
  return require(result, fn, "result").result;
}

}  // namespace

}  // namespace ortlm::capi

using namespace ortlm;
using namespace ortlm::capi;

extern "C" {

const char* ortlm_stop_reason_string(ortlm_stop_reason reason) {
  switch (reason) {
    case ORTLM_STOP_EOS:
      return "eos";
    case ORTLM_STOP_TOKEN:
      return "stop_token";
    case ORTLM_STOP_STRING:
      return "stop_string";
    case ORTLM_STOP_MAX_TOKENS:
      return "max_tokens";
    case ORTLM_STOP_CONTEXT_FULL:
      return "context_full";
    case ORTLM_STOP_CANCELLED:
      return "cancelled";
    case ORTLM_STOP_ERROR:
      return "error";
  }
  return "unknown";
}

ortlm_status ortlm_generation_options_init(ortlm_generation_options* options, size_t struct_size) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    const GenerationOptions defaults;  // one source of truth for the defaults
    ortlm_generation_options c{};
    c.typical_p = defaults.typical_p;
    c.no_repeat_ngram_size = defaults.no_repeat_ngram_size;
    c.min_new_tokens = defaults.min_new_tokens;
    c.presence_penalty = defaults.presence_penalty;
    c.frequency_penalty = defaults.frequency_penalty;
    c.logprobs = defaults.logprobs;
    c.max_length = defaults.max_length;
    c.num_beams = defaults.num_beams;
    c.num_return_sequences = defaults.num_return_sequences;
    c.length_penalty = defaults.length_penalty;
    c.early_stopping = ORTLM_EARLY_STOPPING_HEURISTIC;
    c.max_new_tokens = defaults.max_new_tokens;
    c.greedy = defaults.greedy ? 1 : 0;
    c.temperature = defaults.temperature;
    c.top_k = defaults.top_k;
    c.top_p = defaults.top_p;
    c.min_p = defaults.min_p;
    c.repetition_penalty = defaults.repetition_penalty;
    c.has_seed = defaults.seed ? 1 : 0;
    c.seed = defaults.seed.value_or(0);
    c.stop_at_eos = defaults.stop_at_eos ? 1 : 0;
    write_defaults(options, struct_size, c, kGenerationOptionsV1Size, "ortlm_generation_options_init");
  });
}

ortlm_status ortlm_generator_create(ortlm_model* model, ortlm_generator** out_generator) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_generator, "ortlm_generator_create", "out_generator") = nullptr;
    const auto& shared = require(model, "ortlm_generator_create", "model").shared;
    *out_generator = new ortlm_generator{shared, Generator(shared->model), {}};
  });
}

void ortlm_generator_free(ortlm_generator* generator) { delete generator; }

ortlm_status ortlm_generate(ortlm_generator* generator, const int32_t* prompt_ids, size_t prompt_count,
                            const ortlm_generation_options* options, ortlm_token_callback callback,
                            void* user_data, ortlm_result** out_result) {
  constexpr const char* fn = "ortlm_generate";
  const ortlm_status checked = guard(ORTLM_ERROR_INTERNAL, [&] {
    if (out_result) *out_result = nullptr;
    require_array(prompt_ids, prompt_count, fn, "prompt_ids");
  });
  if (checked != ORTLM_OK) return checked;
  return generate(fn, generator, std::span<const int32_t>(prompt_ids, prompt_count), nullptr, options,
                  callback, user_data, out_result);
}

ortlm_status ortlm_generate_text(ortlm_generator* generator, const char* prompt, size_t prompt_length,
                                 const ortlm_generation_options* options, ortlm_token_callback callback,
                                 void* user_data, ortlm_result** out_result) {
  constexpr const char* fn = "ortlm_generate_text";
  const ortlm_status checked = guard(ORTLM_ERROR_INTERNAL, [&] {
    if (out_result) *out_result = nullptr;
    require_array(prompt, prompt_length, fn, "prompt");
  });
  if (checked != ORTLM_OK) return checked;
  const std::string_view text(prompt ? prompt : "", prompt_length);
  return generate(fn, generator, {}, &text, options, callback, user_data, out_result);
}

void ortlm_result_free(ortlm_result* result) { delete result; }

ortlm_status ortlm_result_prompt_ids(const ortlm_result* result, const int32_t** out_ids, size_t* out_count) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_ids, "ortlm_result_prompt_ids", "out_ids") = nullptr;
    require(out_count, "ortlm_result_prompt_ids", "out_count") = 0;
    const auto& ids = result_of(result, "ortlm_result_prompt_ids").prompt_ids;
    *out_ids = ids.data();
    *out_count = ids.size();
  });
}

ortlm_status ortlm_result_new_ids(const ortlm_result* result, const int32_t** out_ids, size_t* out_count) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_ids, "ortlm_result_new_ids", "out_ids") = nullptr;
    require(out_count, "ortlm_result_new_ids", "out_count") = 0;
    const auto& ids = result_of(result, "ortlm_result_new_ids").new_ids;
    *out_ids = ids.data();
    *out_count = ids.size();
  });
}

ortlm_status ortlm_result_text(const ortlm_result* result, const char** out_text, size_t* out_length) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_text, "ortlm_result_text", "out_text") = nullptr;
    require(out_length, "ortlm_result_text", "out_length") = 0;
    const std::string& text = result_of(result, "ortlm_result_text").text;
    *out_text = text.c_str();
    *out_length = text.size();
  });
}

ortlm_status ortlm_result_error(const ortlm_result* result, const char** out_message) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_message, "ortlm_result_error", "out_message") = nullptr;
    *out_message = result_of(result, "ortlm_result_error").error.c_str();
  });
}

ortlm_status ortlm_result_sequence_count(const ortlm_result* result, size_t* out_count) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_count, "ortlm_result_sequence_count", "out_count") = 0;
    *out_count = result_of(result, "ortlm_result_sequence_count").sequences.size();
  });
}

ortlm_status ortlm_result_sequence(const ortlm_result* result, size_t index, const int32_t** out_ids,
                                   size_t* out_count, const char** out_text, size_t* out_text_length,
                                   float* out_score) {
  constexpr const char* fn = "ortlm_result_sequence";
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_ids, fn, "out_ids") = nullptr;
    require(out_count, fn, "out_count") = 0;
    require(out_text, fn, "out_text") = nullptr;
    require(out_text_length, fn, "out_text_length") = 0;
    require(out_score, fn, "out_score") = 0;
    const auto& sequences = result_of(result, fn).sequences;
    if (index >= sequences.size())
      fail(ORTLM_ERROR_INVALID_ARGUMENT,
           std::string(fn) + ": index " + std::to_string(index) + " of " + std::to_string(sequences.size()));
    const ReturnedSequence& s = sequences[index];
    *out_ids = s.new_ids.data();
    *out_count = s.new_ids.size();
    *out_text = s.text.c_str();
    *out_text_length = s.text.size();
    *out_score = s.score;
  });
}

ortlm_status ortlm_result_logprobs_count(const ortlm_result* result, size_t* out_steps) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_steps, "ortlm_result_logprobs_count", "out_steps") = 0;
    *out_steps = result_of(result, "ortlm_result_logprobs_count").logprobs.size();
  });
}

ortlm_status ortlm_result_logprobs(const ortlm_result* result, size_t step, ortlm_token_logprob* out_chosen,
                                   const ortlm_token_logprob** out_top, size_t* out_top_count) {
  constexpr const char* fn = "ortlm_result_logprobs";
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_chosen, fn, "out_chosen") = {};
    require(out_top, fn, "out_top") = nullptr;
    require(out_top_count, fn, "out_top_count") = 0;
    const auto& steps = result_of(result, fn).logprobs;
    if (step >= steps.size())
      fail(ORTLM_ERROR_INVALID_ARGUMENT,
           std::string(fn) + ": step " + std::to_string(step) + " of " + std::to_string(steps.size()));
    *out_chosen = {steps[step].chosen.id, steps[step].chosen.logprob};
    *out_top = result->top[step].data();
    *out_top_count = result->top[step].size();
  });
}

ortlm_status ortlm_result_stop_reason(const ortlm_result* result, ortlm_stop_reason* out_reason) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_reason, "ortlm_result_stop_reason", "out_reason") = ORTLM_STOP_MAX_TOKENS;
    switch (result_of(result, "ortlm_result_stop_reason").stop_reason) {
      case StopReason::eos:
        *out_reason = ORTLM_STOP_EOS;
        break;
      case StopReason::stop_token:
        *out_reason = ORTLM_STOP_TOKEN;
        break;
      case StopReason::stop_string:
        *out_reason = ORTLM_STOP_STRING;
        break;
      case StopReason::max_tokens:
        *out_reason = ORTLM_STOP_MAX_TOKENS;
        break;
      case StopReason::context_full:
        *out_reason = ORTLM_STOP_CONTEXT_FULL;
        break;
      case StopReason::cancelled:
        *out_reason = ORTLM_STOP_CANCELLED;
        break;
      case StopReason::error:
        *out_reason = ORTLM_STOP_ERROR;
        break;
    }
  });
}

ortlm_status ortlm_result_seed(const ortlm_result* result, uint64_t* out_seed) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_seed, "ortlm_result_seed", "out_seed") = 0;
    *out_seed = result_of(result, "ortlm_result_seed").seed;
  });
}

ortlm_status ortlm_result_timings(const ortlm_result* result, double* out_prefill_seconds,
                                  double* out_decode_seconds, double* out_decode_tokens_per_second) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    const GenerationResult& r = result_of(result, "ortlm_result_timings");
    if (out_prefill_seconds) *out_prefill_seconds = r.prefill_seconds;
    if (out_decode_seconds) *out_decode_seconds = r.decode_seconds;
    if (out_decode_tokens_per_second) *out_decode_tokens_per_second = r.decode_tokens_per_second();
  });
}

}  // extern "C"
