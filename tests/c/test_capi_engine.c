/* The C API's engine (many requests per forward pass) from C11, on the bundled model: batched greedy
 * ids equal llama2.c's reference, each request streams its own text, aborts and per-request errors
 * stay with their request, logprobs come through. Usage: test_capi_engine MODEL_FOLDER */
#include <math.h>

#include "capi_check.h"

typedef struct stream {
  char text[4096];
  size_t length;
  int calls;
  ortlm_engine* engine; /* set: abort `victim` on the 3rd call */
  uint64_t victim;
} stream;

static int on_token(int32_t id, const char* text, size_t length, void* user_data) {
  (void)id;
  stream* s = (stream*)user_data;
  if (s->length + length < sizeof s->text) {
    memcpy(s->text + s->length, text, length);
    s->length += length;
  }
  if (++s->calls == 3 && s->engine) CHECK_OK(ortlm_engine_abort(s->engine, s->victim));
  return 0;
}

static void run_to_completion(ortlm_engine* engine) {
  int unfinished = 1;
  for (int steps = 0; unfinished && steps < 10000; ++steps) CHECK_OK(ortlm_engine_step(engine, &unfinished));
  CHECK(!unfinished);
}

static void test_batch(ortlm_model* model, const reference* ref) {
  ortlm_engine_options engine_options;
  REQUIRE_OK(ortlm_engine_options_init(&engine_options, sizeof engine_options));
  CHECK(engine_options.max_batch_rows == 16 && engine_options.prefill_chunk == 512);
  engine_options.max_batch_rows = 4;
  ortlm_engine* engine = NULL;
  REQUIRE_OK(ortlm_engine_create(model, &engine_options, &engine));

  const ortlm_generation_options greedy = greedy_options(kGreedyTokens);
  ortlm_generation_options long_run = greedy_options(200);
  long_run.stop_at_eos = 0;
  ortlm_generation_options with_logprobs = greedy_options(kGreedyTokens);
  with_logprobs.logprobs = 3;
  stream streams[4];
  memset(streams, 0, sizeof streams);
  uint64_t ids[4] = {0, 0, 0, 0};
  CHECK_OK(ortlm_engine_add_request(engine, ref->prompt_ids, ref->prompt_count, &greedy, on_token,
                                    &streams[0], &ids[0]));
  CHECK_OK(ortlm_engine_add_request(engine, ref->prompt_ids, ref->prompt_count, &long_run, on_token,
                                    &streams[1], &ids[1]));
  CHECK_OK(
      ortlm_engine_add_request_text(engine, kPrompt, strlen(kPrompt), &with_logprobs, NULL, NULL, &ids[2]));
  /* Request 3 aborts request 1 from its callback on its third token. */
  streams[3].engine = engine;
  streams[3].victim = ids[1];
  CHECK_OK(ortlm_engine_add_request_text(engine, "The dog", 7, &greedy, on_token, &streams[3], &ids[3]));
  CHECK(ids[0] && ids[1] != ids[0] && ids[2] && ids[3]);

  /* A bad request is refused at once and queues nothing. */
  const int32_t bad[] = {1, 1 << 20};
  uint64_t bad_id = 7;
  CHECK_STATUS(ortlm_engine_add_request(engine, bad, 2, &greedy, NULL, NULL, &bad_id),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("outside the vocabulary");
  CHECK(bad_id == 0);

  run_to_completion(engine);
  int seen[4] = {0, 0, 0, 0};
  for (;;) {
    uint64_t id = 0;
    ortlm_result* result = NULL;
    CHECK_OK(ortlm_engine_take_finished(engine, &id, &result));
    if (!result) break;
    const int32_t* new_ids = NULL;
    size_t count = 0;
    ortlm_stop_reason reason;
    CHECK_OK(ortlm_result_new_ids(result, &new_ids, &count));
    CHECK_OK(ortlm_result_stop_reason(result, &reason));
    const char* text = NULL;
    size_t length = 0;
    CHECK_OK(ortlm_result_text(result, &text, &length));
    for (int i = 0; i < 4; ++i) {
      if (id != ids[i]) continue;
      ++seen[i];
      if (i == 0 || i == 2) { /* reference greedy ids, batched with the others */
        CHECK(count == kGreedyTokens && same_ids(new_ids, ref->new_ids, kGreedyTokens));
        CHECK(reason == ORTLM_STOP_MAX_TOKENS);
      }
      if (i == 1) CHECK(reason == ORTLM_STOP_CANCELLED && count < 200);
      if (i != 2) CHECK(streams[i].length == length && memcmp(streams[i].text, text, length) == 0);
      if (i == 2) {
        size_t steps = 0;
        CHECK_OK(ortlm_result_logprobs_count(result, &steps));
        CHECK(steps == count);
        for (size_t k = 0; k < steps; ++k) {
          ortlm_token_logprob chosen;
          const ortlm_token_logprob* top = NULL;
          size_t top_count = 0;
          CHECK_OK(ortlm_result_logprobs(result, k, &chosen, &top, &top_count));
          CHECK(top_count == 3 && chosen.id == new_ids[k] && top[0].id == chosen.id);
          CHECK(chosen.logprob <= 0 && fabsf(chosen.logprob - top[0].logprob) < 1e-6f);
          CHECK(top[1].logprob <= top[0].logprob && top[2].logprob <= top[1].logprob);
        }
        ortlm_token_logprob chosen;
        const ortlm_token_logprob* top = NULL;
        size_t top_count = 0;
        CHECK_STATUS(ortlm_result_logprobs(result, steps, &chosen, &top, &top_count),
                     ORTLM_ERROR_INVALID_ARGUMENT);
      }
      const char* error = NULL;
      CHECK_OK(ortlm_result_error(result, &error));
      CHECK(error && error[0] == '\0');
    }
    ortlm_result_free(result);
  }
  for (int i = 0; i < 4; ++i) CHECK(seen[i] == 1);
  ortlm_engine_free(engine);
}

/* Beam search through the C API: 3 sequences best first, the best one is the result's new ids, and
 * num_beams 1 is greedy (the reference). */
static void test_beams(ortlm_model* model, const reference* ref) {
  ortlm_generator* generator = NULL;
  REQUIRE_OK(ortlm_generator_create(model, &generator));
  ortlm_generation_options options = greedy_options(kGreedyTokens);
  options.num_beams = 1;
  ortlm_result* result = NULL;
  CHECK_OK(ortlm_generate(generator, ref->prompt_ids, ref->prompt_count, &options, NULL, NULL, &result));
  size_t count = 0;
  CHECK_OK(ortlm_result_sequence_count(result, &count));
  CHECK(count == 1);
  const int32_t* ids = NULL;
  const char* text = NULL;
  size_t text_length = 0;
  float score = 1;
  CHECK_OK(ortlm_result_sequence(result, 0, &ids, &count, &text, &text_length, &score));
  CHECK(count == kGreedyTokens && same_ids(ids, ref->new_ids, kGreedyTokens) && score == 0);
  ortlm_result_free(result);

  options.num_beams = 4;
  options.num_return_sequences = 3;
  options.early_stopping = ORTLM_EARLY_STOPPING_ON;
  CHECK_OK(ortlm_generate(generator, ref->prompt_ids, ref->prompt_count, &options, NULL, NULL, &result));
  CHECK_OK(ortlm_result_sequence_count(result, &count));
  CHECK(count == 3);
  float previous = 1;
  for (size_t i = 0; i < 3; ++i) {
    size_t n = 0;
    CHECK_OK(ortlm_result_sequence(result, i, &ids, &n, &text, &text_length, &score));
    CHECK(n > 0 && score <= 0 && score <= previous);
    previous = score;
    if (i == 0) {
      const int32_t* best = NULL;
      size_t best_count = 0;
      CHECK_OK(ortlm_result_new_ids(result, &best, &best_count));
      CHECK(best_count == n && same_ids(best, ids, n));
    }
  }
  CHECK_STATUS(ortlm_result_sequence(result, 3, &ids, &count, &text, &text_length, &score),
               ORTLM_ERROR_INVALID_ARGUMENT);
  ortlm_result_free(result);

  options.num_beams = 33;
  CHECK_STATUS(ortlm_generate(generator, ref->prompt_ids, ref->prompt_count, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("num_beams");
  options.num_beams = 4;
  options.early_stopping = 7;
  CHECK_STATUS(ortlm_generate(generator, ref->prompt_ids, ref->prompt_count, &options, NULL, NULL, &result),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("early_stopping");
  ortlm_generator_free(generator);
}

static void test_engine_errors(ortlm_model* model) {
  ortlm_engine* engine = NULL;
  ortlm_engine_options options;
  REQUIRE_OK(ortlm_engine_options_init(&options, sizeof options));
  options.max_batch_rows = 0;
  CHECK_STATUS(ortlm_engine_create(model, &options, &engine), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("max_batch_rows");
  CHECK(engine == NULL);
  CHECK_STATUS(ortlm_engine_create(NULL, NULL, &engine), ORTLM_ERROR_INVALID_ARGUMENT);
  REQUIRE_OK(ortlm_engine_create(model, NULL, &engine));
  uint64_t id = 0;
  ortlm_generation_options bad = greedy_options(5);
  bad.logprobs = 21;
  CHECK_STATUS(ortlm_engine_add_request_text(engine, "x", 1, &bad, NULL, NULL, &id),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("logprobs");
  CHECK_STATUS(ortlm_engine_step(NULL, NULL), ORTLM_ERROR_INVALID_ARGUMENT);
  int unfinished = 1;
  CHECK_OK(ortlm_engine_step(engine, &unfinished)); /* nothing queued */
  CHECK(!unfinished);
  ortlm_result* result = (ortlm_result*)1;
  CHECK_OK(ortlm_engine_take_finished(engine, &id, &result));
  CHECK(result == NULL);
  CHECK_OK(ortlm_engine_abort(engine, 12345)); /* unknown ids are ignored */
  ortlm_engine_free(engine);
  ortlm_engine_free(NULL);
}

/* API version 4: paged KV with a prefix cache gives the reference ids; stats report it; a caller built
 * against API version 2 (a shorter options struct) still gets the defaults for the new fields. */
static void test_paged(ortlm_model* model, const reference* ref) {
  ortlm_engine_options options;
  REQUIRE_OK(ortlm_engine_options_init(&options, sizeof options));
  CHECK(options.kv_cache == ORTLM_KV_CACHE_DENSE && options.kv_block_size == 16 &&
        options.prefix_cache_mib == 0);
  options.kv_cache = ORTLM_KV_CACHE_PAGED;
  options.prefix_cache_mib = 4;
  options.kv_block_size = 4;
  ortlm_engine* engine = NULL;
  REQUIRE_OK(ortlm_engine_create(model, &options, &engine));
  const ortlm_generation_options greedy = greedy_options(kGreedyTokens);
  uint64_t ids[2] = {0, 0};
  for (int i = 0; i < 2; ++i) { /* the second, a step later, finds the first's prompt blocks */
    CHECK_OK(
        ortlm_engine_add_request(engine, ref->prompt_ids, ref->prompt_count, &greedy, NULL, NULL, &ids[i]));
    CHECK_OK(ortlm_engine_step(engine, NULL));
  }
  run_to_completion(engine);
  for (;;) {
    uint64_t id = 0;
    ortlm_result* result = NULL;
    CHECK_OK(ortlm_engine_take_finished(engine, &id, &result));
    if (!result) break;
    const int32_t* new_ids = NULL;
    size_t count = 0;
    CHECK_OK(ortlm_result_new_ids(result, &new_ids, &count));
    CHECK(count == kGreedyTokens && same_ids(new_ids, ref->new_ids, kGreedyTokens));
    ortlm_result_free(result);
  }
  ortlm_engine_stats stats;
  memset(&stats, 0, sizeof stats);
  CHECK_STATUS(ortlm_engine_get_stats(engine, &stats), ORTLM_ERROR_INVALID_ARGUMENT); /* struct_size 0 */
  stats.struct_size = sizeof stats;
  CHECK_OK(ortlm_engine_get_stats(engine, &stats));
  CHECK(stats.paged == 1 && stats.running == 0 && stats.blocks_used == 0 && stats.blocks_cached > 0);
  CHECK(stats.generated_tokens == 2 * kGreedyTokens && stats.cached_prompt_tokens > 0);
  ortlm_engine_free(engine);

  options.kv_cache = 7;
  CHECK_STATUS(ortlm_engine_create(model, &options, &engine), ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("kv_cache");
  /* An API-version-2 caller's struct ends after prefill_chunk: its engine is dense, without a cache. */
  options.kv_cache = ORTLM_KV_CACHE_PAGED;
  options.struct_size = offsetof(ortlm_engine_options, prefill_chunk) + sizeof(int32_t);
  REQUIRE_OK(ortlm_engine_create(model, &options, &engine));
  stats.struct_size = sizeof stats;
  CHECK_OK(ortlm_engine_get_stats(engine, &stats));
  CHECK(stats.paged == 0);
  ortlm_engine_free(engine);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s MODEL_FOLDER\n", argv[0]);
    return 2;
  }
  const reference ref = read_reference(argv[1]);
  CHECK(ortlm_api_version() >= 2);
  ortlm_model* model = NULL;
  REQUIRE_OK(ortlm_model_load(argv[1], NULL, &model));
  test_batch(model, &ref);
  test_beams(model, &ref);
  test_engine_errors(model);
  test_paged(model, &ref);
  ortlm_model_free(model);
  if (failures) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("C API engine: all checks passed\n");
  return 0;
}
