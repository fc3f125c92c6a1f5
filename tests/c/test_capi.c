/* The C API as a C program sees it (C11, only ortlm.h), on the bundled model. Greedy ids and the
 * prompt's encoding are checked against the model's reference.json (llama2.c's run.c), not against
 * ortlm's C++ API. Usage: test_capi MODEL_FOLDER */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include "capi_check.h"
#include "ortlm/ortlm.h"

/* ---- Library, model and tokenizer ------------------------------------------------------------- */

static void test_version(void) {
  char expected[64];
  snprintf(expected, sizeof expected, "%d.%d.%d", ORTLM_VERSION_MAJOR, ORTLM_VERSION_MINOR,
           ORTLM_VERSION_PATCH);
  CHECK(strcmp(ortlm_version(), expected) == 0);
  CHECK(ortlm_api_version() >= ORTLM_API_VERSION);
  CHECK(strcmp(ortlm_status_string(ORTLM_ERROR_BUFFER_TOO_SMALL), "buffer_too_small") == 0);
  CHECK(strcmp(ortlm_stop_reason_string(ORTLM_STOP_CANCELLED), "cancelled") == 0);
}

static void test_model_info(const ortlm_model* model) {
  int32_t vocab = 0, context = 0, bos = 0;
  const int32_t* eos = NULL;
  size_t eos_count = 0;
  int has_tokenizer = 0;
  CHECK_OK(ortlm_model_vocab_size(model, &vocab));
  CHECK_OK(ortlm_model_context_length(model, &context));
  CHECK_OK(ortlm_model_bos_token_id(model, &bos));
  CHECK_OK(ortlm_model_eos_token_ids(model, &eos, &eos_count));
  CHECK_OK(ortlm_model_has_tokenizer(model, &has_tokenizer));
  CHECK(vocab == 512);
  CHECK(context == 512);
  CHECK(bos == 1);
  CHECK(eos_count == 2 && eos[0] == 1 && eos[1] == 2); /* generation_config.json */
  CHECK(has_tokenizer == 1);
}

static void test_tokenize_round_trip(const ortlm_model* model, const reference* ref) {
  size_t count = 0;
  CHECK_OK(ortlm_tokenize(model, kPrompt, strlen(kPrompt), 1, NULL, 0, &count));
  CHECK(count == ref->prompt_count);
  int32_t small[2] = {-7, -7};
  CHECK_STATUS(ortlm_tokenize(model, kPrompt, strlen(kPrompt), 1, small, 2, &count),
               ORTLM_ERROR_BUFFER_TOO_SMALL);
  CHECK(count == ref->prompt_count);
  CHECK(small[0] == -7 && small[1] == -7);
  int32_t ids[kMaxIds];
  CHECK_OK(ortlm_tokenize(model, kPrompt, strlen(kPrompt), 1, ids, kMaxIds, &count));
  CHECK(count == ref->prompt_count && same_ids(ids, ref->prompt_ids, count));

  size_t length = 0;
  CHECK_OK(ortlm_detokenize(model, ids, count, 1, NULL, 0, &length));
  CHECK(length == strlen(kPrompt));
  char tiny[4] = "xyz";
  CHECK_STATUS(ortlm_detokenize(model, ids, count, 1, tiny, sizeof tiny, &length),
               ORTLM_ERROR_BUFFER_TOO_SMALL);
  CHECK(strcmp(tiny, "xyz") == 0);
  char text[256];
  CHECK_OK(ortlm_detokenize(model, ids, count, 1, text, sizeof text, &length));
  CHECK(length == strlen(kPrompt) && strcmp(text, kPrompt) == 0);
  /* Exactly the text and its NUL fit. */
  char exact[sizeof kPrompt];
  CHECK_OK(ortlm_detokenize(model, ids, count, 1, exact, sizeof exact, &length));
  CHECK(strcmp(exact, kPrompt) == 0);
  /* Without skipping special tokens, BOS shows. */
  CHECK_OK(ortlm_detokenize(model, ids, count, 0, text, sizeof text, &length));
  CHECK(strstr(text, "<s>") != NULL);
  /* Empty input. */
  CHECK_OK(ortlm_tokenize(model, NULL, 0, 0, ids, kMaxIds, &count));
  CHECK(count == 0);
  CHECK_OK(ortlm_detokenize(model, NULL, 0, 1, text, sizeof text, &length));
  CHECK(length == 0 && text[0] == '\0');
}

static void test_chat_template(const ortlm_model* model) {
  int has_template = -1;
  CHECK_OK(ortlm_model_has_chat_template(model, &has_template));
  CHECK(has_template == 0); /* stories260k has none: ortlm's fallback (docs/chat.md) */
  const ortlm_chat_message messages[] = {{"system", "You are helpful."}, {"user", "Hi"}};
  const char expected[] = "system: You are helpful.\nuser: Hi\nassistant: ";
  size_t length = 0;
  CHECK_OK(ortlm_apply_chat_template(model, messages, 2, 1, NULL, 0, &length));
  CHECK(length == strlen(expected));
  char text[256];
  CHECK_OK(ortlm_apply_chat_template(model, messages, 2, 1, text, sizeof text, &length));
  CHECK(strcmp(text, expected) == 0);
  const ortlm_chat_message no_role[] = {{NULL, "Hi"}};
  CHECK_STATUS(ortlm_apply_chat_template(model, no_role, 1, 1, text, sizeof text, &length),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("messages[0].role");
}

/* ---- Generation --------------------------------------------------------------------------------- */

static void test_greedy_ids(ortlm_generator* generator, const reference* ref) {
  const ortlm_generation_options options = greedy_options(kGreedyTokens);
  ortlm_result* result = NULL;
  CHECK_OK(ortlm_generate(generator, ref->prompt_ids, ref->prompt_count, &options, NULL, NULL, &result));
  if (!result) return;
  const int32_t* ids = NULL;
  size_t count = 0;
  CHECK_OK(ortlm_result_new_ids(result, &ids, &count));
  CHECK(count == kGreedyTokens && same_ids(ids, ref->new_ids, kGreedyTokens));
  CHECK_OK(ortlm_result_prompt_ids(result, &ids, &count));
  CHECK(count == ref->prompt_count && same_ids(ids, ref->prompt_ids, count));
  ortlm_stop_reason reason = ORTLM_STOP_EOS;
  CHECK_OK(ortlm_result_stop_reason(result, &reason));
  CHECK(reason == ORTLM_STOP_MAX_TOKENS);
  double prefill = -1, decode = -1, rate = -1;
  CHECK_OK(ortlm_result_timings(result, &prefill, &decode, &rate));
  CHECK(prefill >= 0 && decode >= 0 && rate >= 0);
  ortlm_result_free(result);
}

typedef struct stream {
  char text[4096];
  size_t length;
  size_t tokens;            /* calls with a token id (not the final -1) */
  size_t stop_after;        /* 0 = never stop */
  ortlm_generator* reenter; /* when set, the callback tries ortlm_generate on it */
  ortlm_status reentered;
} stream;

static int on_token(int32_t id, const char* text, size_t text_length, void* user_data) {
  stream* s = (stream*)user_data;
  if (text[text_length] != '\0') ++failures; /* promised NUL-terminated */
  if (s->length + text_length < sizeof s->text) {
    memcpy(s->text + s->length, text, text_length);
    s->length += text_length;
    s->text[s->length] = '\0';
  }
  if (id >= 0) ++s->tokens;
  if (s->reenter) {
    ortlm_result* inner = NULL;
    s->reentered = ortlm_generate(s->reenter, NULL, 0, NULL, NULL, NULL, &inner);
    ortlm_result_free(inner);
  }
  return s->stop_after && s->tokens >= s->stop_after;
}

static void test_streaming(ortlm_generator* generator, const reference* ref) {
  const ortlm_generation_options options = greedy_options(kGreedyTokens);
  stream s;
  memset(&s, 0, sizeof s);
  ortlm_result* result = NULL;
  CHECK_OK(ortlm_generate_text(generator, kPrompt, strlen(kPrompt), &options, on_token, &s, &result));
  if (!result) return;
  const char* text = NULL;
  size_t length = 0;
  CHECK_OK(ortlm_result_text(result, &text, &length));
  CHECK(length > 0 && length == s.length && strcmp(text, s.text) == 0);
  CHECK(strncmp(text, ", there was a little girl", 25) == 0);
  CHECK(s.tokens == kGreedyTokens);
  const int32_t* ids = NULL;
  size_t count = 0;
  CHECK_OK(ortlm_result_new_ids(result, &ids, &count));
  CHECK(count == kGreedyTokens && same_ids(ids, ref->new_ids, kGreedyTokens));
  ortlm_result_free(result);
}

static void test_cancel_from_callback(ortlm_generator* generator) {
  const ortlm_generation_options options = greedy_options(kGreedyTokens);
  stream s;
  memset(&s, 0, sizeof s);
  s.stop_after = 3;
  ortlm_result* result = NULL;
  CHECK_OK(ortlm_generate_text(generator, kPrompt, strlen(kPrompt), &options, on_token, &s, &result));
  if (!result) return;
  ortlm_stop_reason reason = ORTLM_STOP_EOS;
  CHECK_OK(ortlm_result_stop_reason(result, &reason));
  CHECK(reason == ORTLM_STOP_CANCELLED);
  const int32_t* ids = NULL;
  size_t count = 0;
  CHECK_OK(ortlm_result_new_ids(result, &ids, &count));
  CHECK(count == 3);
  ortlm_result_free(result);
}

static void test_stops_and_seeds(ortlm_generator* generator) {
  ortlm_generation_options options = greedy_options(100);
  const char* stops[] = {"Lily"};
  options.stop_strings = stops;
  options.stop_string_count = 1;
  ortlm_result* result = NULL;
  ortlm_stop_reason reason = ORTLM_STOP_EOS;
  const char* text = NULL;
  size_t length = 0;
  CHECK_OK(ortlm_generate_text(generator, kPrompt, strlen(kPrompt), &options, NULL, NULL, &result));
  CHECK_OK(ortlm_result_stop_reason(result, &reason));
  CHECK_OK(ortlm_result_text(result, &text, &length));
  CHECK(reason == ORTLM_STOP_STRING && strstr(text, "Lily") == NULL);
  ortlm_result_free(result);

  /* Seeded sampling repeats itself and reports the seed. */
  ortlm_generation_options sampling;
  REQUIRE_OK(ortlm_generation_options_init(&sampling, sizeof sampling));
  sampling.max_new_tokens = 30;
  sampling.top_k = 40;
  sampling.has_seed = 1;
  sampling.seed = 7;
  ortlm_result* a = NULL;
  ortlm_result* b = NULL;
  CHECK_OK(ortlm_generate_text(generator, kPrompt, strlen(kPrompt), &sampling, NULL, NULL, &a));
  CHECK_OK(ortlm_generate_text(generator, kPrompt, strlen(kPrompt), &sampling, NULL, NULL, &b));
  const int32_t *ids_a = NULL, *ids_b = NULL;
  size_t count_a = 0, count_b = 0;
  uint64_t seed = 0;
  CHECK_OK(ortlm_result_new_ids(a, &ids_a, &count_a));
  CHECK_OK(ortlm_result_new_ids(b, &ids_b, &count_b));
  CHECK_OK(ortlm_result_seed(a, &seed));
  CHECK(count_a == count_b && count_a > 0 && same_ids(ids_a, ids_b, count_a));
  CHECK(seed == 7);
  ortlm_result_free(a);
  ortlm_result_free(b);

  /* An empty prompt starts from BOS. */
  options = greedy_options(3);
  CHECK_OK(ortlm_generate(generator, NULL, 0, &options, NULL, NULL, &result));
  const int32_t* prompt = NULL;
  size_t prompt_count = 0;
  CHECK_OK(ortlm_result_prompt_ids(result, &prompt, &prompt_count));
  CHECK(prompt_count == 1 && prompt[0] == 1);
  ortlm_result_free(result);
}

/* ---- Errors ------------------------------------------------------------------------------------- */

static void test_errors(ortlm_model* model, ortlm_generator* generator, const char* model_folder) {
  ortlm_model* bad = (ortlm_model*)&failures; /* must be overwritten with NULL */
  CHECK_STATUS(ortlm_model_load("/no/such/model-folder", NULL, &bad), ORTLM_ERROR_NOT_FOUND);
  CHECK(bad == NULL);
  CHECK_ERROR_MENTIONS("/no/such/model-folder");
  char path[4096];
  snprintf(path, sizeof path, "%s/README.md", model_folder); /* exists, but is no model */
  CHECK_STATUS(ortlm_model_load(path, NULL, &bad), ORTLM_ERROR_MODEL);
  CHECK_ERROR_MENTIONS("README.md");
  CHECK_STATUS(ortlm_model_load(NULL, NULL, &bad), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("path");
  ortlm_session_options session;
  REQUIRE_OK(ortlm_session_options_init(&session, sizeof session));
  session.context_length = -5;
  CHECK_STATUS(ortlm_model_load(model_folder, &session, &bad), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("context_length");

  /* NULL handles and out-pointers name the argument. */
  ortlm_result* result = (ortlm_result*)&failures;
  const int32_t ids[] = {1, 403, 407};
  CHECK_STATUS(ortlm_generate(NULL, ids, 3, NULL, NULL, NULL, &result), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK(result == NULL);
  CHECK_ERROR_MENTIONS("generator");
  CHECK_STATUS(ortlm_generate(generator, ids, 3, NULL, NULL, NULL, NULL), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("out_result");
  CHECK_STATUS(ortlm_generate(generator, NULL, 3, NULL, NULL, NULL, &result), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("prompt_ids");
  int32_t vocab = 0;
  CHECK_STATUS(ortlm_model_vocab_size(NULL, &vocab), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(ortlm_result_text(NULL, NULL, NULL), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(ortlm_generator_create(NULL, NULL), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_STATUS(ortlm_generation_options_init(NULL, sizeof(ortlm_generation_options)),
               ORTLM_ERROR_INVALID_ARGUMENT);

  /* Ids outside the vocabulary. */
  const int32_t outside[] = {1, 403, 512};
  CHECK_STATUS(ortlm_generate(generator, outside, 3, NULL, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("512");
  const int32_t negative[] = {-1};
  CHECK_STATUS(ortlm_generate(generator, negative, 1, NULL, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  char text[64];
  size_t length = 0;
  CHECK_STATUS(ortlm_detokenize(model, outside, 3, 1, text, sizeof text, &length),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("512");

  /* Option values out of range, and structs not filled by their _init. */
  ortlm_generation_options options;
  REQUIRE_OK(ortlm_generation_options_init(&options, sizeof options));
  options.temperature = -1.0f;
  CHECK_STATUS(ortlm_generate(generator, ids, 3, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("temperature");
  REQUIRE_OK(ortlm_generation_options_init(&options, sizeof options));
  const int32_t stop_ids[] = {600};
  options.stop_token_ids = stop_ids;
  options.stop_token_id_count = 1;
  CHECK_STATUS(ortlm_generate(generator, ids, 3, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("600");
  REQUIRE_OK(ortlm_generation_options_init(&options, sizeof options));
  const char* stops[] = {"ok", NULL};
  options.stop_strings = stops;
  options.stop_string_count = 2;
  CHECK_STATUS(ortlm_generate(generator, ids, 3, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("stop_strings[1]");
  memset(&options, 0, sizeof options);
  CHECK_STATUS(ortlm_generate(generator, ids, 3, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  REQUIRE_OK(ortlm_generation_options_init(&options, sizeof options));
  options.struct_size += 8; /* set by hand for a newer header than this library */
  CHECK_STATUS(ortlm_generate(generator, ids, 3, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("struct_size");
  CHECK(result == NULL);
  CHECK_STATUS(ortlm_generation_options_init(&options, 8), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("first version");
  /* A caller built with a newer header: _init writes only what this library knows. */
  struct {
    ortlm_generation_options options;
    unsigned char newer_fields[16];
  } newer;
  memset(&newer, 0x5a, sizeof newer);
  CHECK_OK(ortlm_generation_options_init(&newer.options, sizeof newer));
  CHECK(newer.options.struct_size == sizeof(ortlm_generation_options));
  CHECK(newer.newer_fields[0] == 0x5a && newer.newer_fields[15] == 0x5a);
  CHECK(ORTLM_HAS_FIELD(&newer.options, stop_string_count));
  CHECK(newer.options.max_new_tokens == 256 && newer.options.stop_at_eos == 1 && newer.options.has_seed == 0);

  /* A callback may not generate (it would wait for its own generation). */
  ortlm_generation_options greedy = greedy_options(2);
  stream s;
  memset(&s, 0, sizeof s);
  s.reenter = generator;
  CHECK_OK(ortlm_generate(generator, ids, 3, &greedy, on_token, &s, &result));
  CHECK(s.reentered == ORTLM_ERROR_INVALID_ARGUMENT);
  ortlm_result_free(result);
  /* The last error survives successful calls and is "" on a fresh thread (see test_threads). */
  CHECK(strlen(ortlm_last_error()) > 0);

  /* Freeing NULL is a no-op. */
  ortlm_result_free(NULL);
  ortlm_generator_free(NULL);
  ortlm_model_free(NULL);
}

/* ---- Threads: one model, a generator per thread --------------------------------------------- */

enum { kThreads = 4 };

typedef struct worker {
  ortlm_model* model;
  const reference* ref;
  int ok;
  int fresh_error_empty;
} worker;

static int run_worker(void* arg) {
  worker* w = (worker*)arg;
  w->fresh_error_empty = ortlm_last_error()[0] == '\0';
  ortlm_generator* generator = NULL;
  if (ortlm_generator_create(w->model, &generator) != ORTLM_OK) return 0;
  const ortlm_generation_options options = greedy_options(kGreedyTokens);
  w->ok = 1;
  for (int round = 0; round < 3; ++round) {
    ortlm_result* result = NULL;
    const int32_t* ids = NULL;
    size_t count = 0;
    if (ortlm_generate(generator, w->ref->prompt_ids, w->ref->prompt_count, &options, NULL, NULL, &result) !=
            ORTLM_OK ||
        ortlm_result_new_ids(result, &ids, &count) != ORTLM_OK || count != kGreedyTokens ||
        !same_ids(ids, w->ref->new_ids, kGreedyTokens))
      w->ok = 0;
    ortlm_result_free(result);
  }
  ortlm_generator_free(generator);
  return 0;
}

static void test_threads(ortlm_model* model, const reference* ref) {
  thrd_t threads[kThreads];
  worker workers[kThreads];
  for (int i = 0; i < kThreads; ++i) {
    workers[i] = (worker){model, ref, 0, 0};
    CHECK(thrd_create(&threads[i], run_worker, &workers[i]) == thrd_success);
  }
  for (int i = 0; i < kThreads; ++i) {
    thrd_join(threads[i], NULL);
    CHECK(workers[i].ok);
    CHECK(workers[i].fresh_error_empty);
  }
}

/* A generator keeps the model alive: the model handle may be freed first. */
static void test_model_freed_first(const char* model_folder, const reference* ref) {
  ortlm_model* model = NULL;
  ortlm_generator* generator = NULL;
  REQUIRE_OK(ortlm_model_load(model_folder, NULL, &model));
  REQUIRE_OK(ortlm_generator_create(model, &generator));
  ortlm_model_free(model);
  const ortlm_generation_options options = greedy_options(kGreedyTokens);
  ortlm_result* result = NULL;
  CHECK_OK(ortlm_generate(generator, ref->prompt_ids, ref->prompt_count, &options, NULL, NULL, &result));
  ortlm_generator_free(generator);
  const int32_t* ids = NULL;
  size_t count = 0;
  CHECK_OK(ortlm_result_new_ids(result, &ids, &count)); /* the result outlives both */
  CHECK(count == kGreedyTokens && same_ids(ids, ref->new_ids, kGreedyTokens));
  ortlm_result_free(result);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL_FOLDER\n", argv[0]);
    return 2;
  }
  const reference ref = read_reference(argv[1]);
  test_version();
  ortlm_session_options session;
  REQUIRE_OK(ortlm_session_options_init(&session, sizeof session));
  session.intra_op_threads = 1;
  ortlm_model* model = NULL;
  REQUIRE_OK(ortlm_model_load(argv[1], &session, &model));
  ortlm_generator* generator = NULL;
  REQUIRE_OK(ortlm_generator_create(model, &generator));

  test_model_info(model);
  test_tokenize_round_trip(model, &ref);
  test_chat_template(model);
  test_greedy_ids(generator, &ref);
  test_streaming(generator, &ref);
  test_cancel_from_callback(generator);
  test_stops_and_seeds(generator);
  test_errors(model, generator, argv[1]);
  test_threads(model, &ref);
  test_model_freed_first(argv[1], &ref);

  ortlm_generator_free(generator);
  ortlm_model_free(model);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C API: all checks passed\n");
  return 0;
}
