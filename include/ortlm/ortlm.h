/*
 * ortlm's stable C API: the contract for bindings (Go cgo, Dart dart:ffi, Node koffi / N-API,
 * Python ctypes) and C programs. C11 and C++; docs/c_api.md has the guide and binding examples.
 *
 * VERSIONING
 *   The library's version is ORTLM_VERSION_MAJOR.MINOR.PATCH (ortlm_version() at run time).
 *   Compatibility breaks only with a new MAJOR version, which also renames the shared library
 *   (libortlm.so.MAJOR). Within one MAJOR version the API only grows: functions are added, enum
 *   values and struct fields are appended (structs carry their size, see struct_size below),
 *   nothing is removed, renamed or given another meaning. ORTLM_API_VERSION counts those
 *   additions: a program built against API version N runs with every library of the same MAJOR
 *   whose ortlm_api_version() is >= N.
 *
 * ERRORS
 *   Every function that can fail returns an ortlm_status; ORTLM_OK (0) is success. On failure,
 *   out-parameters are set to NULL / 0 (a size asked for excepted) and ortlm_last_error() gives a message
 * naming the argument, file, field or value at fault. No C++ exception ever crosses this API.
 *
 * OWNERSHIP AND LIFETIMES
 *   - Each object made by an ortlm_*_create / _load / generate call is owned by the caller and
 *     freed with its ortlm_*_free function (which accepts NULL, like free()).
 *   - A generator keeps its model's weights alive: models and generators may be freed in any
 *     order (convenient for garbage-collected bindings, whose finalizers run in any order).
 *   - A result owns copies of everything it reports; it outlives its generator and model.
 *   - Pointers returned by getters point into the object queried and stay valid until that object
 *     is freed. Strings the library returns are UTF-8 and NUL-terminated; where text may contain
 *     NUL bytes, the byte length is returned as well.
 *   - The library keeps no pointer to caller memory after a call returns (options, prompts, ids
 *     and strings are copied as needed).
 *   - Text payloads (prompts, text to tokenize) are passed as pointer + byte length and need no
 *     NUL; names and short strings (paths, roles, stop strings, provider) are NUL-terminated.
 *
 * THREADS
 *   - A model may be shared by any number of generators on any number of threads; the model
 *     functions (info, tokenize, detokenize, chat template) may be called concurrently.
 *   - A generator is used by one thread at a time (one per thread or per request stream).
 *   - Generators of the same model run at the same time: each has its own KV cache and buffers,
 *     and they share the model's weights and ONNX Runtime session.
 *   - A token callback may call the model functions, but not ortlm_generate* (the call fails with
 *     ORTLM_ERROR_INVALID_ARGUMENT rather than deadlock).
 *   - ortlm_last_error() is per thread.
 *
 * FUTURE: THE BATCHED ENGINE
 *   Functions named ortlm_engine_* (create from a model, add requests, step, abort, free) will be
 *   added without changing anything here. They will take the same ortlm_generation_options,
 *   ortlm_token_callback and ortlm_result, so code written for ortlm_generate carries over;
 *   ORTLM_ERROR_CANCELLED is reserved for requests aborted that way.
 */
#ifndef ORTLM_ORTLM_H
#define ORTLM_ORTLM_H

#include <stddef.h>
#include <stdint.h>

#define ORTLM_VERSION_MAJOR 0
#define ORTLM_VERSION_MINOR 4
#define ORTLM_VERSION_PATCH 0
/* Incremented with every addition to this API (functions, enum values, struct fields). */
#define ORTLM_API_VERSION 4

/* Every function is exported from libortlm.so even if the library is built with hidden visibility. */
#if defined(__GNUC__) || defined(__clang__)
#define ORTLM_API __attribute__((visibility("default")))
#else
#define ORTLM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Enums are int-sized (bind them as int32). Values are fixed; new ones are only appended. */
typedef enum ortlm_status {
  ORTLM_OK = 0,
  ORTLM_ERROR_INVALID_ARGUMENT = 1, /* a NULL or out-of-range argument, an id outside the vocabulary */
  ORTLM_ERROR_NOT_FOUND = 2,        /* no such file or folder; the model has no tokenizer */
  ORTLM_ERROR_MODEL = 3,            /* the model's files cannot be used, or running it failed */
  ORTLM_ERROR_OUT_OF_MEMORY = 4,
  ORTLM_ERROR_CANCELLED = 5,       /* reserved for the batched engine's abort */
  ORTLM_ERROR_INTERNAL = 6,        /* a bug in ortlm: please report the message */
  ORTLM_ERROR_BUFFER_TOO_SMALL = 7 /* the size needed was stored; nothing was written */
} ortlm_status;

typedef enum ortlm_stop_reason {
  ORTLM_STOP_EOS = 0,          /* the model's end-of-sequence token */
  ORTLM_STOP_TOKEN = 1,        /* one of stop_token_ids */
  ORTLM_STOP_STRING = 2,       /* one of stop_strings (cut from the text) */
  ORTLM_STOP_MAX_TOKENS = 3,   /* max_new_tokens reached */
  ORTLM_STOP_CONTEXT_FULL = 4, /* the model's context length reached */
  ORTLM_STOP_CANCELLED = 5,    /* the token callback returned nonzero */
  ORTLM_STOP_ERROR = 6         /* the request failed (batched engine requests; ortlm_generate returns
                                  an error status instead) */
} ortlm_stop_reason;

/* ---- Library ---------------------------------------------------------------------------------- */

/* "MAJOR.MINOR.PATCH" of the loaded library (static storage). */
ORTLM_API const char* ortlm_version(void);
/* ORTLM_API_VERSION of the loaded library. */
ORTLM_API int ortlm_api_version(void);
/* The message of the last failed call on this thread ("" if none). It stays valid until the next
 * ortlm call on this thread. */
ORTLM_API const char* ortlm_last_error(void);
/* "ok", "invalid_argument", ... (static storage; "unknown" for values this library does not know). */
ORTLM_API const char* ortlm_status_string(ortlm_status status);
/* "eos", "stop_token", "stop_string", "max_tokens", "context_full", "cancelled", "error" (static
 * storage). */
ORTLM_API const char* ortlm_stop_reason_string(ortlm_stop_reason reason);

/* ---- Extensible structs -------------------------------------------------------------------------
 * Option structs start with struct_size. Fill one with its _init function, passing the size of the
 * struct as the caller knows it (sizeof in C; the FFI's size of its struct declaration): _init
 * writes defaults into at most that many bytes (a newer library never writes past an older
 * caller's struct) and sets struct_size to the smaller of that size and its own. Then change
 * fields. A library reads only the fields within struct_size, and refuses a struct_size smaller
 * than the first version's or larger than its own (ORTLM_ERROR_INVALID_ARGUMENT). A caller built
 * for a newer header tests ORTLM_HAS_FIELD(&options, field) after _init to learn whether the
 * loaded library reads `field`. */
#define ORTLM_HAS_FIELD(ptr, field) \
  ((size_t)((const char*)&(ptr)->field - (const char*)(ptr)) + sizeof((ptr)->field) <= (ptr)->struct_size)

/* ---- Models ----------------------------------------------------------------------------------- */

typedef struct ortlm_model ortlm_model;

typedef struct ortlm_session_options {
  size_t struct_size;
  int32_t intra_op_threads; /* 0 = automatic (see docs); at most 4 x the logical cores */
  int32_t context_length;   /* tokens; 0 = the model's own (required for a bare .onnx file) */
  const char* provider;     /* ONNX Runtime execution provider, e.g. "cpu", "cuda"; NULL = "cpu" */
} ortlm_session_options;

ORTLM_API ortlm_status ortlm_session_options_init(ortlm_session_options* options, size_t struct_size);

/* Loads a model folder or .onnx file (UTF-8 path) with its tokenizer. `options` may be NULL
 * (defaults). A missing path gives ORTLM_ERROR_NOT_FOUND, unusable files ORTLM_ERROR_MODEL. */
ORTLM_API ortlm_status ortlm_model_load(const char* path, const ortlm_session_options* options,
                                        ortlm_model** out_model);
ORTLM_API void ortlm_model_free(ortlm_model* model);

/* Rows of the model's logits (token ids are in [0, vocab_size)). */
ORTLM_API ortlm_status ortlm_model_vocab_size(const ortlm_model* model, int32_t* out_vocab_size);
/* Tokens the model can attend to (0 if unknown: generation then fails until it is given). */
ORTLM_API ortlm_status ortlm_model_context_length(const ortlm_model* model, int32_t* out_context_length);
/* The ids that end generation when stop_at_eos is set; the array belongs to the model. */
ORTLM_API ortlm_status ortlm_model_eos_token_ids(const ortlm_model* model, const int32_t** out_ids,
                                                 size_t* out_count);
/* The beginning-of-sequence id, or -1 when the model has none. */
ORTLM_API ortlm_status ortlm_model_bos_token_id(const ortlm_model* model, int32_t* out_id);
/* 1 if the model folder has a tokenizer (tokenize, detokenize, text prompts and text output). */
ORTLM_API ortlm_status ortlm_model_has_tokenizer(const ortlm_model* model, int* out_has_tokenizer);

/* ---- Tokens and text --------------------------------------------------------------------------
 * Output buffers follow the two-call pattern: *out_count / *out_length always receives the size
 * needed; pass NULL and 0 to ask for it (ORTLM_OK), then call again with a buffer that large. A
 * buffer too small gives ORTLM_ERROR_BUFFER_TOO_SMALL and is left untouched. */

/* Encodes `text` (UTF-8, text_length bytes) as the model's tokenizer does; add_special_tokens
 * nonzero adds BOS etc. as the model is configured. */
ORTLM_API ortlm_status ortlm_tokenize(const ortlm_model* model, const char* text, size_t text_length,
                                      int add_special_tokens, int32_t* ids, size_t capacity,
                                      size_t* out_count);
/* Decodes ids into `text`: text_capacity must hold the text and a terminating NUL (*out_length does
 * not count it). An id outside the tokenizer's vocabulary gives ORTLM_ERROR_INVALID_ARGUMENT. */
ORTLM_API ortlm_status ortlm_detokenize(const ortlm_model* model, const int32_t* ids, size_t count,
                                        int skip_special_tokens, char* text, size_t text_capacity,
                                        size_t* out_length);

/* ---- Chat templates ------------------------------------------------------------------------- */

typedef struct ortlm_chat_message {
  const char* role;    /* "system", "user", "assistant", ... (NUL-terminated) */
  const char* content; /* NUL-terminated UTF-8 */
} ortlm_chat_message;

/* 1 if the model has its own chat template, 0 if ortlm's fallback ("role: content" lines) is used.
 * A model's template writes its special tokens itself: tokenize the rendered prompt with
 * add_special_tokens = !has_template (the fallback needs BOS added). */
ORTLM_API ortlm_status ortlm_model_has_chat_template(const ortlm_model* model, int* out_has_template);
/* Renders a conversation with the model's chat template, as Hugging Face's apply_chat_template;
 * two-call pattern as ortlm_detokenize. A template that rejects the conversation gives
 * ORTLM_ERROR_INVALID_ARGUMENT, a template that cannot be read ORTLM_ERROR_MODEL. */
ORTLM_API ortlm_status ortlm_apply_chat_template(const ortlm_model* model, const ortlm_chat_message* messages,
                                                 size_t message_count, int add_generation_prompt, char* text,
                                                 size_t text_capacity, size_t* out_length);

/* ---- Generation ------------------------------------------------------------------------------- */

typedef struct ortlm_generator ortlm_generator;
typedef struct ortlm_result ortlm_result;

/* Ranges (checked by every generate call; a value outside one is an error naming the field):
 * max_new_tokens >= 0; temperature 0 or in [0.001, 1000]; top_k >= 0; top_p in (0, 1];
 * min_p in [0, 1]; repetition_penalty in [0.01, 100]; stop ids in the vocabulary; stop strings
 * not empty. Flags are int32 0 / nonzero. */
/* Beam search's stopping rule, as Hugging Face's early_stopping False / True / "never". */
typedef enum ortlm_early_stopping {
  ORTLM_EARLY_STOPPING_HEURISTIC = 0,
  ORTLM_EARLY_STOPPING_ON = 1,
  ORTLM_EARLY_STOPPING_NEVER = 2
} ortlm_early_stopping;

typedef struct ortlm_generation_options {
  size_t struct_size;
  int32_t max_new_tokens;        /* default 256 */
  int32_t greedy;                /* default 0; nonzero: argmax, the sampling fields are unused */
  float temperature;             /* default 1; 0 = greedy */
  int32_t top_k;                 /* default 0 = off */
  float top_p;                   /* default 1 = off */
  float min_p;                   /* default 0 = off */
  float repetition_penalty;      /* default 1 = off */
  int32_t has_seed;              /* default 0: a random seed, reported by ortlm_result_seed */
  uint64_t seed;                 /* used when has_seed is nonzero */
  int32_t stop_at_eos;           /* default 1: the model's eos ids end generation */
  const int32_t* stop_token_ids; /* extra ids that end generation; NULL when count is 0 */
  size_t stop_token_id_count;
  const char* const* stop_strings; /* generation ends once the text contains one (cut off) */
  size_t stop_string_count;
  /* Since API version 2 (read only when struct_size covers them; see ORTLM_HAS_FIELD). */
  float typical_p;              /* default 1 = off; (0, 1] */
  int32_t no_repeat_ngram_size; /* default 0 = off */
  int32_t min_new_tokens;       /* default 0; eos ids barred before this many new tokens */
  float presence_penalty;       /* default 0; [-2, 2], OpenAI semantics over the generated ids */
  float frequency_penalty;      /* default 0; [-2, 2] */
  int32_t logprobs;             /* default 0 = off; [0, 20]: see ortlm_result_logprobs */
  int32_t max_length;           /* default 0 = unset; total length with the prompt (HF max_length) */
  /* Beam search as Hugging Face's: num_beams > 1 keeps that many hypotheses (never samples: a
   * sampling setting or stop strings with it are an error); see ortlm_result_sequence. */
  int32_t num_beams;            /* default 1 = off; [1, 32] */
  int32_t num_return_sequences; /* default 1; [1, num_beams] */
  float length_penalty;         /* default 1: scores are log-prob sums / length^length_penalty */
  int32_t early_stopping;       /* ortlm_early_stopping; default ORTLM_EARLY_STOPPING_HEURISTIC */
} ortlm_generation_options;

ORTLM_API ortlm_status ortlm_generation_options_init(ortlm_generation_options* options, size_t struct_size);

/* Called once per new token with its id and the UTF-8 text it completed (possibly empty; valid only
 * during the call, NUL-terminated). Text held back until the end (an unfinished stop-string prefix,
 * an incomplete character) comes in a last call with id -1. Return nonzero to stop: generation ends
 * with ORTLM_STOP_CANCELLED (and ORTLM_OK). The callback runs on the calling thread, inside
 * ortlm_generate; it must return normally (no longjmp, no exception through the library). */
typedef int (*ortlm_token_callback)(int32_t id, const char* text, size_t text_length, void* user_data);

/* A generator runs one generation at a time, with its own scratch state; reuse it for many calls. */
ORTLM_API ortlm_status ortlm_generator_create(ortlm_model* model, ortlm_generator** out_generator);
ORTLM_API void ortlm_generator_free(ortlm_generator* generator);

/* Generates after `prompt_ids` (an empty prompt starts from BOS). `options` may be NULL (defaults),
 * `callback` NULL (no streaming). On success *out_result is a new result to free. */
ORTLM_API ortlm_status ortlm_generate(ortlm_generator* generator, const int32_t* prompt_ids,
                                      size_t prompt_count, const ortlm_generation_options* options,
                                      ortlm_token_callback callback, void* user_data,
                                      ortlm_result** out_result);
/* The same from text, encoded with the model's tokenizer (BOS added as the model is configured). */
ORTLM_API ortlm_status ortlm_generate_text(ortlm_generator* generator, const char* prompt,
                                           size_t prompt_length, const ortlm_generation_options* options,
                                           ortlm_token_callback callback, void* user_data,
                                           ortlm_result** out_result);

/* ---- Engine: many requests per forward pass (API version 2) ------------------------------------
 * An engine queues requests and runs them in batches: each ortlm_engine_step runs one forward pass
 * (a prefill of newly admitted requests, or one token for every running one). Results are taken
 * one at a time as requests finish. One thread steps an engine; ortlm_engine_abort may be called
 * from any thread (and from a token callback). Several engines may share one model. */

typedef struct ortlm_engine ortlm_engine;

/* Where running sequences keep their KV (API version 4; docs/serving.md). */
typedef enum ortlm_kv_cache {
  ORTLM_KV_CACHE_DENSE = 0, /* the exported graph's dense tensors; every model */
  ORTLM_KV_CACHE_PAGED = 1, /* blocks read in place by ortlm's attention operator (Llama-family graphs;
                               a second session of the model); ortlm_engine_create fails otherwise */
  ORTLM_KV_CACHE_AUTO = 2   /* paged where the graph allows it, else dense */
} ortlm_kv_cache;

typedef struct ortlm_engine_options {
  size_t struct_size;
  int32_t max_batch_rows; /* sequences per forward pass, [1, 256]; default 16 */
  int32_t prefill_chunk;  /* prompt tokens per prefill pass, all rows together, >= 1; default 512 */
  /* API version 4: */
  int32_t prefix_cache_mib; /* prefix cache memory in MiB, 0 = off (default) */
  int32_t kv_block_size;    /* KV block size in tokens, [1, 1024]; default 16 */
  int32_t kv_cache;         /* an ortlm_kv_cache; default ORTLM_KV_CACHE_DENSE */
  int32_t kv_cache_mib;     /* paged KV memory for running sequences in MiB; 0 (default) = auto */
} ortlm_engine_options;

/* What an engine is doing (API version 4), for monitoring. */
typedef struct ortlm_engine_stats {
  size_t struct_size;
  uint64_t waiting, running;     /* requests queued, and being generated */
  uint64_t prompt_tokens;        /* prompt tokens of admitted requests, since the start */
  uint64_t cached_prompt_tokens; /* of which reused from the prefix cache */
  uint64_t generated_tokens;
  int32_t blocks_used, blocks_cached, blocks_free; /* KV blocks (paged pool or prefix cache) */
  int32_t paged;                                   /* 1 when the KV is paged */
  uint64_t preemptions;                            /* sequences preempted for want of KV blocks, recomputed */
} ortlm_engine_stats;

ORTLM_API ortlm_status ortlm_engine_options_init(ortlm_engine_options* options, size_t struct_size);
/* `options` may be NULL (defaults). The engine keeps the model's weights alive. */
ORTLM_API ortlm_status ortlm_engine_create(ortlm_model* model, const ortlm_engine_options* options,
                                           ortlm_engine** out_engine);
ORTLM_API void ortlm_engine_free(ortlm_engine* engine);
/* Queues a request (checked now: a bad option, id or prompt length fails here and queues nothing).
 * The callback, if any, runs inside ortlm_engine_step on the stepping thread. */
ORTLM_API ortlm_status ortlm_engine_add_request(ortlm_engine* engine, const int32_t* prompt_ids,
                                                size_t prompt_count, const ortlm_generation_options* options,
                                                ortlm_token_callback callback, void* user_data,
                                                uint64_t* out_request_id);
ORTLM_API ortlm_status ortlm_engine_add_request_text(ortlm_engine* engine, const char* prompt,
                                                     size_t prompt_length,
                                                     const ortlm_generation_options* options,
                                                     ortlm_token_callback callback, void* user_data,
                                                     uint64_t* out_request_id);
/* Ends a request at the next step (stop reason cancelled). Unknown or finished ids are ignored. */
ORTLM_API ortlm_status ortlm_engine_abort(ortlm_engine* engine, uint64_t request_id);
/* One forward pass. *out_has_unfinished (may be NULL) is 1 while requests remain. A request that
 * fails (e.g. a broken model's NaN logits) finishes with ORTLM_STOP_ERROR; the others go on. */
ORTLM_API ortlm_status ortlm_engine_step(ortlm_engine* engine, int* out_has_unfinished);
/* The next finished request's result (a new result to free), in finishing order; *out_result is
 * NULL (and ORTLM_OK) when none is waiting. */
/* Fills `stats` (struct_size set by the caller: sizeof(ortlm_engine_stats) of its headers). */
ORTLM_API ortlm_status ortlm_engine_get_stats(const ortlm_engine* engine, ortlm_engine_stats* stats);
ORTLM_API ortlm_status ortlm_engine_take_finished(ortlm_engine* engine, uint64_t* out_request_id,
                                                  ortlm_result** out_result);

/* ---- Results ---------------------------------------------------------------------------------- */

ORTLM_API void ortlm_result_free(ortlm_result* result);
/* The prompt's ids as generated from (text prompts: the encoding; empty prompts: BOS). */
ORTLM_API ortlm_status ortlm_result_prompt_ids(const ortlm_result* result, const int32_t** out_ids,
                                               size_t* out_count);
ORTLM_API ortlm_status ortlm_result_new_ids(const ortlm_result* result, const int32_t** out_ids,
                                            size_t* out_count);
/* The text of the new ids (the streamed text, concatenated); "" when the model has no tokenizer. */
ORTLM_API ortlm_status ortlm_result_text(const ortlm_result* result, const char** out_text,
                                         size_t* out_length);
ORTLM_API ortlm_status ortlm_result_stop_reason(const ortlm_result* result, ortlm_stop_reason* out_reason);
/* The sampling seed used (given, or drawn at random). */
ORTLM_API ortlm_status ortlm_result_seed(const ortlm_result* result, uint64_t* out_seed);
/* Seconds spent on the prompt (prefill) and on the following tokens (decode), and decode tokens/s.
 * Any out-pointer may be NULL. */
ORTLM_API ortlm_status ortlm_result_timings(const ortlm_result* result, double* out_prefill_seconds,
                                            double* out_decode_seconds, double* out_decode_tokens_per_second);
/* Why the request failed (ORTLM_STOP_ERROR), else "". Valid until the result is freed. */
ORTLM_API ortlm_status ortlm_result_error(const ortlm_result* result, const char** out_message);

typedef struct ortlm_token_logprob {
  int32_t id;
  float logprob; /* natural log of the softmax of the model's raw logits at that step */
} ortlm_token_logprob;

/* Sequences returned: num_return_sequences for beam search (best first), else 1. */
ORTLM_API ortlm_status ortlm_result_sequence_count(const ortlm_result* result, size_t* out_count);
/* Sequence `index` (0 = the best, the same as new_ids/text): its new ids, text and score (beam
 * search: Hugging Face's sequences_scores; otherwise 0). Arrays belong to the result. */
ORTLM_API ortlm_status ortlm_result_sequence(const ortlm_result* result, size_t index,
                                             const int32_t** out_ids, size_t* out_count,
                                             const char** out_text, size_t* out_text_length,
                                             float* out_score);

/* Steps with logprobs: one per new token when the options asked for logprobs, else 0. */
ORTLM_API ortlm_status ortlm_result_logprobs_count(const ortlm_result* result, size_t* out_steps);
/* Step `step`'s chosen token and the options' `logprobs` most likely ones (most likely first; the
 * array belongs to the result). */
ORTLM_API ortlm_status ortlm_result_logprobs(const ortlm_result* result, size_t step,
                                             ortlm_token_logprob* out_chosen,
                                             const ortlm_token_logprob** out_top, size_t* out_top_count);

/* ---- LLMzip: lossless compression by the model's predictions (API version 3) -------------------
 * docs/llmzip.md has the archive format and its rules. Any bytes round-trip; decompressing needs
 * the same model and tokenizer (refused before any work otherwise, naming the mismatch), and a
 * damaged archive fails naming the field or chunk, never returning other bytes. Archives record
 * the ONNX Runtime version, execution provider and CPU features the model's floats depend on. */

typedef struct ortlm_llmzip_options {
  size_t struct_size;
  size_t chunk_bytes;    /* compress: a chunk's bytes at most, 64 to 1 MiB; 0 = 4096 */
  int32_t rows_per_pass; /* compress: chunks coded together in one forward pass, 1 to 256; 0 = 16 */
  int32_t verify;        /* compress: decompress the archive and compare before returning it */
  int32_t force;         /* decompress: try despite another ONNX Runtime, provider or CPU */
} ortlm_llmzip_options;

ORTLM_API ortlm_status ortlm_llmzip_options_init(ortlm_llmzip_options* options, size_t struct_size);

/* Compresses `input_size` bytes (any bytes; NULL only when empty) with the model. The archive is
 * allocated by the library: *out_data (free it with ortlm_llmzip_free) and *out_size. `options` may
 * be NULL (defaults). A model without a tokenizer gives ORTLM_ERROR_NOT_FOUND. */
ORTLM_API ortlm_status ortlm_llmzip_compress(const ortlm_model* model, const void* input, size_t input_size,
                                             const ortlm_llmzip_options* options, uint8_t** out_data,
                                             size_t* out_size);
/* The original bytes of an archive made with this model: *out_data (ortlm_llmzip_free) and
 * *out_size. Another model or tokenizer, a damaged or truncated archive: ORTLM_ERROR_INVALID_ARGUMENT
 * with a message naming the mismatch, field or chunk. */
ORTLM_API ortlm_status ortlm_llmzip_decompress(const ortlm_model* model, const void* archive,
                                               size_t archive_size, const ortlm_llmzip_options* options,
                                               uint8_t** out_data, size_t* out_size);
/* Frees what ortlm_llmzip_compress / _decompress returned (NULL is fine). */
ORTLM_API void ortlm_llmzip_free(uint8_t* data);

#ifdef __cplusplus
}
#endif

#endif /* ORTLM_ORTLM_H */
