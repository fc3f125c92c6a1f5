/* The C API's LLMzip functions from C11 (only ortlm.h, linked with libortlm.so): round trips of
 * text and of bytes that are not UTF-8, options, damaged archives, another model, NULL arguments. */
#define CAPI_CHECK_NO_REFERENCE
#include "capi_check.h"

static void round_trip(const ortlm_model* model, const char* bytes, size_t size,
                       const ortlm_llmzip_options* options) {
  uint8_t* archive = NULL;
  size_t archive_size = 0;
  CHECK_OK(ortlm_llmzip_compress(model, bytes, size, options, &archive, &archive_size));
  CHECK(archive != NULL && archive_size > 0);
  uint8_t* out = NULL;
  size_t out_size = 1;
  CHECK_OK(ortlm_llmzip_decompress(model, archive, archive_size, options, &out, &out_size));
  CHECK(out != NULL && out_size == size && (size == 0 || memcmp(out, bytes, size) == 0));
  ortlm_llmzip_free(out);
  ortlm_llmzip_free(archive);
}

int main(int argc, char** argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s MODEL_FOLDER OTHER_MODEL_FOLDER\n", argv[0]);
    return 2;
  }
  CHECK(ortlm_api_version() >= 3);
  ortlm_model* model = NULL;
  REQUIRE_OK(ortlm_model_load(argv[1], NULL, &model));

  static const char story[] =
      "Once upon a time, there was a little bird. The bird liked to sing in the tree.\n"
      "One day, it met a cat. \"Hello,\" said the cat. They became friends.\n";
  static const char bytes[] = "text \xff\xfe\x00 with NUL, \xc0\xaf and \xf0\x9f\x98\x80 emoji";
  round_trip(model, story, sizeof story - 1, NULL);
  round_trip(model, bytes, sizeof bytes - 1, NULL);
  round_trip(model, NULL, 0, NULL);

  ortlm_llmzip_options options;
  CHECK_OK(ortlm_llmzip_options_init(&options, sizeof options));
  CHECK(options.struct_size == sizeof options && options.chunk_bytes == 4096 && options.rows_per_pass == 16);
  options.chunk_bytes = 64;
  options.rows_per_pass = 3;
  options.verify = 1;
  round_trip(model, story, sizeof story - 1, &options);

  /* Out of range: named. */
  uint8_t* archive = NULL;
  size_t archive_size = 0;
  options.rows_per_pass = 1000;
  CHECK_STATUS(ortlm_llmzip_compress(model, story, 10, &options, &archive, &archive_size),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("rows_per_pass");
  CHECK(archive == NULL && archive_size == 0);
  CHECK_STATUS(ortlm_llmzip_compress(NULL, story, 10, NULL, &archive, &archive_size),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("model");
  CHECK_STATUS(ortlm_llmzip_compress(model, NULL, 10, NULL, &archive, &archive_size),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("input");

  /* A damaged archive names the chunk; another model names the mismatch. */
  REQUIRE_OK(ortlm_llmzip_compress(model, story, sizeof story - 1, NULL, &archive, &archive_size));
  archive[archive_size - 3] ^= 0x40;
  uint8_t* out = NULL;
  size_t out_size = 0;
  CHECK_STATUS(ortlm_llmzip_decompress(model, archive, archive_size, NULL, &out, &out_size),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("chunk 0 of 1");
  CHECK(out == NULL && out_size == 0);
  archive[archive_size - 3] ^= 0x40;
  ortlm_model* other = NULL;
  REQUIRE_OK(ortlm_model_load(argv[2], NULL, &other));
  CHECK_STATUS(ortlm_llmzip_decompress(other, archive, archive_size, NULL, &out, &out_size),
               ORTLM_ERROR_INVALID_ARGUMENT);
  CHECK_ERROR_MENTIONS("another model");
  ortlm_llmzip_free(archive);
  ortlm_llmzip_free(NULL);
  ortlm_model_free(other);
  ortlm_model_free(model);
  if (failures) fprintf(stderr, "%d checks failed\n", failures);
  return failures ? 1 : 0;
}
