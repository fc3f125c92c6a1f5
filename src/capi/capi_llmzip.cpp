// The C API's LLMzip functions (ortlm.h, API version 3) over ortlm::llmzip::Codec.
#include <cstdlib>
#include <cstring>
#include <string>

#include "capi/capi_internal.hpp"

using namespace ortlm;
using namespace ortlm::capi;

namespace {

constexpr size_t kLlmzipOptionsV1Size = offsetof(ortlm_llmzip_options, force) + sizeof(int32_t);

const llmzip::Codec& codec_of(const ortlm_model& model, const char* fn) {
  SharedModel& shared = *model.shared;
  if (!shared.model->tokenizer())
    fail(ORTLM_ERROR_NOT_FOUND, std::string(fn) + ": " + shared.model->folder().string() +
                                    ": the model has no tokenizer.json (LLMzip codes text as tokens)");
  std::lock_guard lock(shared.codec_mutex);
  if (!shared.codec) shared.codec = std::make_unique<llmzip::Codec>(shared.model, shared.provider);
  return *shared.codec;
}

// Copies `bytes` into a malloc'ed buffer the caller frees with ortlm_llmzip_free.
void hand_out(const std::string& bytes, uint8_t** out_data, size_t* out_size) {
  auto* data = static_cast<uint8_t*>(std::malloc(bytes.empty() ? 1 : bytes.size()));
  if (!data) throw std::bad_alloc();
  std::memcpy(data, bytes.data(), bytes.size());
  *out_data = data;
  *out_size = bytes.size();
}

// Runs `body` with the out-parameters cleared and checked; a C++ error is the caller's argument.
template <class F>
ortlm_status llmzip_call(const char* fn, const ortlm_model* model, const void* bytes, size_t size,
                         const ortlm_llmzip_options* c, uint8_t** out_data, size_t* out_size, F&& body) {
  return guard(ORTLM_ERROR_INVALID_ARGUMENT, [&] {
    require(out_data, fn, "out_data") = nullptr;
    require(out_size, fn, "out_size") = 0;
    require_array(static_cast<const char*>(bytes), size, fn, "input");
    if (c)
      check_struct_size(c->struct_size, kLlmzipOptionsV1Size, sizeof(ortlm_llmzip_options), fn, "options");
    const llmzip::Codec& codec = codec_of(require(model, fn, "model"), fn);
    const std::string_view view(static_cast<const char*>(bytes), bytes ? size : 0);
    hand_out(body(codec, view), out_data, out_size);
  });
}

}  // namespace

ortlm_status ortlm_llmzip_options_init(ortlm_llmzip_options* options, size_t struct_size) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    ortlm_llmzip_options c{};
    c.chunk_bytes = llmzip::kDefaultChunkBytes;
    c.rows_per_pass = llmzip::kDefaultRowsPerPass;
    write_defaults(options, struct_size, c, kLlmzipOptionsV1Size, "ortlm_llmzip_options_init");
  });
}

ortlm_status ortlm_llmzip_compress(const ortlm_model* model, const void* input, size_t input_size,
                                   const ortlm_llmzip_options* options, uint8_t** out_data,
                                   size_t* out_size) {
  return llmzip_call("ortlm_llmzip_compress", model, input, input_size, options, out_data, out_size,
                     [&](const llmzip::Codec& codec, std::string_view bytes) {
                       llmzip::CompressOptions o;
                       if (options) {
                         if (options->chunk_bytes) o.chunk_bytes = options->chunk_bytes;
                         if (options->rows_per_pass) o.rows_per_pass = options->rows_per_pass;
                         o.verify = options->verify != 0;
                       }
                       return codec.compress(bytes, o);
                     });
}

ortlm_status ortlm_llmzip_decompress(const ortlm_model* model, const void* archive, size_t archive_size,
                                     const ortlm_llmzip_options* options, uint8_t** out_data,
                                     size_t* out_size) {
  return llmzip_call("ortlm_llmzip_decompress", model, archive, archive_size, options, out_data, out_size,
                     [&](const llmzip::Codec& codec, std::string_view bytes) {
                       llmzip::DecompressOptions o;
                       if (options) o.force = options->force != 0;
                       return codec.decompress(bytes, o);
                     });
}

void ortlm_llmzip_free(uint8_t* data) { std::free(data); }
