// The C API's library, model, tokenizer and chat template functions (include/ortlm/ortlm.h).
#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <system_error>
#include <thread>
#include <vector>

#include "capi/capi_internal.hpp"

namespace ortlm::capi {

namespace {

// The last error stays in a per-thread string; the pointer handed out is the string's, or a static
// text when even storing the message failed.
thread_local std::string last_error_text;
thread_local const char* last_error = "";

#define ORTLM_STRINGIFY2(x) #x
#define ORTLM_STRINGIFY(x) ORTLM_STRINGIFY2(x)
constexpr const char* kVersion = ORTLM_STRINGIFY(ORTLM_VERSION_MAJOR) "." ORTLM_STRINGIFY(
    ORTLM_VERSION_MINOR) "." ORTLM_STRINGIFY(ORTLM_VERSION_PATCH);

constexpr size_t kSessionOptionsV1Size = offsetof(ortlm_session_options, provider) + sizeof(const char*);

SessionOptions session_options(const ortlm_session_options* c) {
  SessionOptions options;
  if (!c) return options;
  check_struct_size(c->struct_size, kSessionOptionsV1Size, sizeof(ortlm_session_options), "ortlm_model_load",
                    "options");
  // The C++ API checks both ranges too, but only as a load failure (ORTLM_ERROR_MODEL).
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  if (c->intra_op_threads < 0 || c->intra_op_threads > kMaxThreadsPerCore * cores)
    fail(ORTLM_ERROR_INVALID_ARGUMENT, "ortlm_model_load: options->intra_op_threads must be in [0, " +
                                           std::to_string(kMaxThreadsPerCore * cores) +
                                           "] (0 = automatic), not " + std::to_string(c->intra_op_threads));
  if (c->context_length < 0 || c->context_length > kMaxContextLength)
    fail(ORTLM_ERROR_INVALID_ARGUMENT,
         "ortlm_model_load: options->context_length must be in [0, " + std::to_string(kMaxContextLength) +
             "] (0 = the model's own), not " + std::to_string(c->context_length));
  options.intra_op_threads = c->intra_op_threads;
  options.context_length = c->context_length;
  if (c->provider) options.provider = c->provider;
  return options;
}

const Tokenizer& tokenizer_of(const ortlm_model& model, const char* function) {
  const Tokenizer* tokenizer = model.shared->model->tokenizer();
  if (!tokenizer)
    fail(ORTLM_ERROR_NOT_FOUND, std::string(function) + ": " + model.shared->model->folder().string() +
                                    ": the model has no tokenizer.json");
  return *tokenizer;
}

const ChatTemplate& chat_template_of(const ortlm_model& model) {
  SharedModel& shared = *model.shared;
  std::lock_guard lock(shared.template_mutex);
  if (!shared.chat_template) shared.chat_template = ChatTemplate::from_model_folder(shared.model->folder());
  return *shared.chat_template;
}

}  // namespace

void fail(ortlm_status status, std::string message) { throw Failure{status, std::move(message)}; }

ortlm_status set_error(ortlm_status status, std::string_view message) noexcept {
  try {
    last_error_text.assign(message);
    last_error = last_error_text.c_str();
  } catch (...) {
    last_error = "out of memory (while storing an error message)";
  }
  return status;
}

void check_struct_size(size_t struct_size, size_t first_size, size_t our_size, const char* function,
                       const char* argument) {
  if (struct_size == 0)
    fail(ORTLM_ERROR_INVALID_ARGUMENT,
         std::string(function) + ": " + argument +
             "->struct_size is 0: fill the struct with its _init function first");
  if (struct_size < first_size || struct_size > our_size)
    fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + argument + "->struct_size " +
                                           std::to_string(struct_size) + " is not in [" +
                                           std::to_string(first_size) + ", " + std::to_string(our_size) +
                                           "], the sizes this library (" + kVersion + ") reads");
}

void copy_text_out(std::string_view text, char* buffer, size_t capacity, size_t* out_length,
                   const char* function) {
  *out_length = text.size();
  if (!buffer && capacity == 0) return;  // a size query
  require(buffer, function, "text");
  if (capacity < text.size() + 1)
    fail(ORTLM_ERROR_BUFFER_TOO_SMALL, std::string(function) + ": the text needs " +
                                           std::to_string(text.size() + 1) +
                                           " bytes with its NUL, the buffer has " + std::to_string(capacity));
  text.copy(buffer, text.size());
  buffer[text.size()] = '\0';
}

}  // namespace ortlm::capi

using namespace ortlm;
using namespace ortlm::capi;

extern "C" {

const char* ortlm_version(void) { return kVersion; }

int ortlm_api_version(void) { return ORTLM_API_VERSION; }

const char* ortlm_last_error(void) { return last_error; }

const char* ortlm_status_string(ortlm_status status) {
  switch (status) {
    case ORTLM_OK:
      return "ok";
    case ORTLM_ERROR_INVALID_ARGUMENT:
      return "invalid_argument";
    case ORTLM_ERROR_NOT_FOUND:
      return "not_found";
    case ORTLM_ERROR_MODEL:
      return "model";
    case ORTLM_ERROR_OUT_OF_MEMORY:
      return "out_of_memory";
    case ORTLM_ERROR_CANCELLED:
      return "cancelled";
    case ORTLM_ERROR_INTERNAL:
      return "internal";
    case ORTLM_ERROR_BUFFER_TOO_SMALL:
      return "buffer_too_small";
  }
  return "unknown";
}

ortlm_status ortlm_session_options_init(ortlm_session_options* options, size_t struct_size) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    const SessionOptions defaults;
    ortlm_session_options c{};
    c.intra_op_threads = defaults.intra_op_threads;
    c.context_length = defaults.context_length;
    c.provider = nullptr;  // the C++ default, "cpu"
    write_defaults(options, struct_size, c, kSessionOptionsV1Size, "ortlm_session_options_init");
  });
}

ortlm_status ortlm_model_load(const char* path, const ortlm_session_options* options,
                              ortlm_model** out_model) {
  return guard(ORTLM_ERROR_MODEL, [&] {
    require(out_model, "ortlm_model_load", "out_model") = nullptr;
    require(path, "ortlm_model_load", "path");
    const SessionOptions session = session_options(options);
    std::error_code ec;
    if (!std::filesystem::exists(path, ec))
      fail(ORTLM_ERROR_NOT_FOUND, std::string(path) + ": no such file or folder");
    auto model = std::make_unique<ortlm_model>();
    model->shared = std::make_shared<SharedModel>();
    model->shared->model = Model::load(path, session);
    model->shared->provider = session.provider;
    *out_model = model.release();
  });
}

void ortlm_model_free(ortlm_model* model) { delete model; }

ortlm_status ortlm_model_vocab_size(const ortlm_model* model, int32_t* out_vocab_size) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_vocab_size, "ortlm_model_vocab_size", "out_vocab_size") = 0;
    *out_vocab_size = require(model, "ortlm_model_vocab_size", "model").shared->model->config().vocab_size;
  });
}

ortlm_status ortlm_model_context_length(const ortlm_model* model, int32_t* out_context_length) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_context_length, "ortlm_model_context_length", "out_context_length") = 0;
    *out_context_length =
        require(model, "ortlm_model_context_length", "model").shared->model->config().context_length;
  });
}

ortlm_status ortlm_model_eos_token_ids(const ortlm_model* model, const int32_t** out_ids, size_t* out_count) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_ids, "ortlm_model_eos_token_ids", "out_ids") = nullptr;
    require(out_count, "ortlm_model_eos_token_ids", "out_count") = 0;
    const auto& ids =
        require(model, "ortlm_model_eos_token_ids", "model").shared->model->config().eos_token_ids;
    *out_ids = ids.data();
    *out_count = ids.size();
  });
}

ortlm_status ortlm_model_bos_token_id(const ortlm_model* model, int32_t* out_id) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_id, "ortlm_model_bos_token_id", "out_id") = -1;
    *out_id =
        require(model, "ortlm_model_bos_token_id", "model").shared->model->config().bos_token_id.value_or(-1);
  });
}

ortlm_status ortlm_model_has_tokenizer(const ortlm_model* model, int* out_has_tokenizer) {
  return guard(ORTLM_ERROR_INTERNAL, [&] {
    require(out_has_tokenizer, "ortlm_model_has_tokenizer", "out_has_tokenizer") = 0;
    *out_has_tokenizer =
        require(model, "ortlm_model_has_tokenizer", "model").shared->model->tokenizer() ? 1 : 0;
  });
}

ortlm_status ortlm_tokenize(const ortlm_model* model, const char* text, size_t text_length,
                            int add_special_tokens, int32_t* ids, size_t capacity, size_t* out_count) {
  // Encoding errors are about the input (e.g. over the tokenizer's size limits).
  return guard(ORTLM_ERROR_INVALID_ARGUMENT, [&] {
    constexpr const char* fn = "ortlm_tokenize";
    require(out_count, fn, "out_count") = 0;
    const Tokenizer& tokenizer = tokenizer_of(require(model, fn, "model"), fn);
    require_array(text, text_length, fn, "text");
    const auto encoded =
        tokenizer.encode_ids(std::string_view(text ? text : "", text_length), add_special_tokens != 0);
    *out_count = encoded.size();
    if (!ids && capacity == 0) return;  // a size query
    require(ids, fn, "ids");
    if (capacity < encoded.size())
      fail(ORTLM_ERROR_BUFFER_TOO_SMALL, std::string(fn) + ": the text has " +
                                             std::to_string(encoded.size()) + " tokens, the buffer holds " +
                                             std::to_string(capacity));
    std::copy(encoded.begin(), encoded.end(), ids);
  });
}

ortlm_status ortlm_detokenize(const ortlm_model* model, const int32_t* ids, size_t count,
                              int skip_special_tokens, char* text, size_t text_capacity, size_t* out_length) {
  // Tokenizer::decode throws only for ids outside the vocabulary.
  return guard(ORTLM_ERROR_INVALID_ARGUMENT, [&] {
    constexpr const char* fn = "ortlm_detokenize";
    require(out_length, fn, "out_length") = 0;
    const Tokenizer& tokenizer = tokenizer_of(require(model, fn, "model"), fn);
    require_array(ids, count, fn, "ids");
    const std::string decoded =
        count ? tokenizer.decode(std::span<const int32_t>(ids, count), skip_special_tokens != 0)
              : std::string();
    copy_text_out(decoded, text, text_capacity, out_length, fn);
  });
}

ortlm_status ortlm_model_has_chat_template(const ortlm_model* model, int* out_has_template) {
  return guard(ORTLM_ERROR_MODEL, [&] {
    require(out_has_template, "ortlm_model_has_chat_template", "out_has_template") = 0;
    *out_has_template =
        chat_template_of(require(model, "ortlm_model_has_chat_template", "model")).is_fallback() ? 0 : 1;
  });
}

ortlm_status ortlm_apply_chat_template(const ortlm_model* model, const ortlm_chat_message* messages,
                                       size_t message_count, int add_generation_prompt, char* text,
                                       size_t text_capacity, size_t* out_length) {
  constexpr const char* fn = "ortlm_apply_chat_template";
  const ChatTemplate* chat_template = nullptr;
  // Reading the template is the model's failure; rendering is the conversation's (raise_exception).
  const ortlm_status loaded = guard(ORTLM_ERROR_MODEL, [&] {
    require(out_length, fn, "out_length") = 0;
    chat_template = &chat_template_of(require(model, fn, "model"));
  });
  if (loaded != ORTLM_OK) return loaded;
  return guard(ORTLM_ERROR_INVALID_ARGUMENT, [&] {
    require_array(messages, message_count, fn, "messages");
    nlohmann::ordered_json conversation = nlohmann::ordered_json::array();
    for (size_t i = 0; i < message_count; ++i) {
      const std::string at = "messages[" + std::to_string(i) + "]";
      require(messages[i].role, fn, (at + ".role").c_str());
      require(messages[i].content, fn, (at + ".content").c_str());
      conversation.push_back({{"role", messages[i].role}, {"content", messages[i].content}});
    }
    ChatTemplateOptions options;
    options.add_generation_prompt = add_generation_prompt != 0;
    copy_text_out(chat_template->render(conversation, options), text, text_capacity, out_length, fn);
  });
}

}  // extern "C"
