/* What the C API test programs share: checks that count failures, and the oracle read from the
 * bundled model's reference.json (llama2.c's greedy ids for "Once upon a time"). One include per
 * program (the definitions are static). */
#ifndef ORTLM_TESTS_CAPI_CHECK_H
#define ORTLM_TESTS_CAPI_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ortlm/ortlm.h"

static int failures = 0;

#define CHECK(cond)                                                                            \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond, \
              ortlm_last_error());                                                             \
      ++failures;                                                                              \
    }                                                                                          \
  } while (0)

#define CHECK_STATUS(call, expected)                                                                      \
  do {                                                                                                    \
    const ortlm_status got_ = (call);                                                                     \
    if (got_ != (expected)) {                                                                             \
      fprintf(stderr, "%s:%d: %s returned %s, expected %s (last error: %s)\n", __FILE__, __LINE__, #call, \
              ortlm_status_string(got_), ortlm_status_string(expected), ortlm_last_error());              \
      ++failures;                                                                                         \
    }                                                                                                     \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, ORTLM_OK)

/* Tests after a failed setup step would only crash. */
#define REQUIRE_OK(call)                                                                        \
  do {                                                                                          \
    const ortlm_status got_ = (call);                                                           \
    if (got_ != ORTLM_OK) {                                                                     \
      fprintf(stderr, "%s:%d: %s failed: %s\n", __FILE__, __LINE__, #call, ortlm_last_error()); \
      exit(1);                                                                                  \
    }                                                                                           \
  } while (0)

#define CHECK_ERROR_MENTIONS(text) CHECK(strstr(ortlm_last_error(), (text)) != NULL)

/* ---- The oracle: models/stories260k/reference.json ---------------------------------------------- */
/* (left out where CAPI_CHECK_NO_REFERENCE is defined: programs that do not generate) */
#ifndef CAPI_CHECK_NO_REFERENCE

enum { kMaxIds = 256, kGreedyTokens = 20 };

typedef struct reference {
  int32_t prompt_ids[kMaxIds];
  size_t prompt_count;
  int32_t new_ids[kMaxIds];
  size_t new_count;
} reference;

/* Reads the integers of the JSON array after `key` (first occurrence after `from`). */
static size_t read_ids(const char* from, const char* key, int32_t* ids) {
  const char* p = strstr(from, key);
  size_t count = 0;
  if (!p || !(p = strchr(p, '['))) return 0;
  ++p;
  while (*p && *p != ']' && count < kMaxIds) {
    char* end;
    const long value = strtol(p, &end, 10);
    if (end == p) {
      ++p;
      continue;
    }
    ids[count++] = (int32_t)value;
    p = end;
  }
  return count;
}

static reference read_reference(const char* model_folder) {
  reference ref;
  memset(&ref, 0, sizeof ref);
  char path[4096];
  snprintf(path, sizeof path, "%s/reference.json", model_folder);
  FILE* file = fopen(path, "rb");
  if (!file) {
    fprintf(stderr, "cannot open %s\n", path);
    exit(1);
  }
  static char json[1 << 16];
  const size_t size = fread(json, 1, sizeof json - 1, file);
  fclose(file);
  json[size] = '\0';
  const char* entry = strstr(json, "\"prompt\": \"Once upon a time\"");
  if (entry) {
    ref.prompt_count = read_ids(entry, "\"prompt_ids\"", ref.prompt_ids);
    ref.new_count = read_ids(entry, "\"greedy_new_ids\"", ref.new_ids);
  }
  if (ref.prompt_count == 0 || ref.new_count < kGreedyTokens) {
    fprintf(stderr, "%s: no reference for \"Once upon a time\"\n", path);
    exit(1);
  }
  return ref;
}

static const char kPrompt[] = "Once upon a time";

static ortlm_generation_options greedy_options(int32_t max_new_tokens) {
  ortlm_generation_options options;
  REQUIRE_OK(ortlm_generation_options_init(&options, sizeof options));
  options.greedy = 1;
  options.max_new_tokens = max_new_tokens;
  return options;
}

static int same_ids(const int32_t* a, const int32_t* b, size_t count) {
  return memcmp(a, b, count * sizeof(int32_t)) == 0;
}

#endif /* CAPI_CHECK_NO_REFERENCE */

#endif
