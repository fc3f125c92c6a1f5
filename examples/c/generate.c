/* Generates text with ortlm's C API, streaming it to stdout:
 *   generate MODEL [PROMPT] [MAX_NEW_TOKENS]
 * Build: cc -std=c11 generate.c $(pkg-config --cflags --libs ortlm) */
#include <ortlm/ortlm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Writes each piece of text as it is generated; returning nonzero would stop generation. */
static int print_token(int32_t id, const char* text, size_t text_length, void* user_data) {
  (void)id;
  (void)user_data;
  fwrite(text, 1, text_length, stdout);
  fflush(stdout);
  return 0;
}

static int fail(const char* what, ortlm_status status) {
  fprintf(stderr, "%s failed (%s): %s\n", what, ortlm_status_string(status), ortlm_last_error());
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 2 || argc > 4) {
    fprintf(stderr, "usage: %s MODEL [PROMPT] [MAX_NEW_TOKENS]\n", argv[0]);
    return 2;
  }
  const char* prompt = argc > 2 ? argv[2] : "Once upon a time";

  ortlm_model* model = NULL;
  ortlm_status status = ortlm_model_load(argv[1], NULL, &model);
  if (status != ORTLM_OK) return fail("loading the model", status);
  ortlm_generator* generator = NULL;
  status = ortlm_generator_create(model, &generator);
  if (status != ORTLM_OK) {
    ortlm_model_free(model);
    return fail("creating a generator", status);
  }

  ortlm_generation_options options;
  ortlm_generation_options_init(&options, sizeof options);
  options.greedy = 1;
  options.max_new_tokens = argc > 3 ? atoi(argv[3]) : 100;

  fputs(prompt, stdout);
  ortlm_result* result = NULL;
  status = ortlm_generate_text(generator, prompt, strlen(prompt), &options, print_token, NULL, &result);
  if (status == ORTLM_OK) {
    ortlm_stop_reason reason = ORTLM_STOP_MAX_TOKENS;
    size_t count = 0;
    const int32_t* ids = NULL;
    double tokens_per_second = 0;
    ortlm_result_stop_reason(result, &reason);
    ortlm_result_new_ids(result, &ids, &count);
    ortlm_result_timings(result, NULL, NULL, &tokens_per_second);
    fprintf(stderr, "\n[%zu tokens, %.1f tokens/s, stopped: %s]\n", count, tokens_per_second,
            ortlm_stop_reason_string(reason));
  }
  ortlm_result_free(result);
  ortlm_generator_free(generator);
  ortlm_model_free(model);
  return status == ORTLM_OK ? 0 : fail("generating", status);
}
