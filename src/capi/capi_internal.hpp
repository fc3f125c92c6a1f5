#pragma once
// What the C API's translation units share: the handle types behind the opaque pointers, and the
// barrier that turns every C++ exception into a status and the thread's last error message.
#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ortlm/ortlm.h"
#include "ortlm/ortlm.hpp"

namespace ortlm::capi {

// A failure found by the C layer itself, which knows whose fault it is (the C++ API throws one
// Error type for everything, so its status is decided per function).
struct Failure {
  ortlm_status status;
  std::string message;
};
[[noreturn]] void fail(ortlm_status status, std::string message);

// Records the message as the calling thread's last error; returns `status`. Never throws.
ortlm_status set_error(ortlm_status status, std::string_view message) noexcept;

// Runs `body`; ortlm::Error (the C++ API's failures) becomes `error_status`.
template <class F>
ortlm_status guard(ortlm_status error_status, F&& body) noexcept {
  try {
    body();
    return ORTLM_OK;
  } catch (const Failure& f) {
    return set_error(f.status, f.message);
  } catch (const Error& e) {
    return set_error(error_status, e.what());
  } catch (const std::bad_alloc&) {
    return set_error(ORTLM_ERROR_OUT_OF_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return set_error(ORTLM_ERROR_INTERNAL, e.what());
  } catch (...) {
    return set_error(ORTLM_ERROR_INTERNAL, "unknown exception");
  }
}

// `pointer`, or INVALID_ARGUMENT naming the function and the argument.
template <class T>
T& require(T* pointer, const char* function, const char* argument) {
  if (!pointer) fail(ORTLM_ERROR_INVALID_ARGUMENT, std::string(function) + ": " + argument + " is NULL");
  return *pointer;
}

// A (pointer, count) array argument: NULL is allowed only when empty.
template <class T>
void require_array(const T* pointer, size_t count, const char* function, const char* argument) {
  if (!pointer && count > 0)
    fail(ORTLM_ERROR_INVALID_ARGUMENT,
         std::string(function) + ": " + argument + " is NULL but its count is " + std::to_string(count));
}

// Checks an extensible struct's struct_size: at least the first version's fields, at most ours.
void check_struct_size(size_t struct_size, size_t first_size, size_t our_size, const char* function,
                       const char* argument);

// Writes `defaults` into a caller's extensible struct of `struct_size` bytes (its own idea of the
// struct's size): never past its end, and struct_size set to what both sides know.
template <class T>
void write_defaults(T* out, size_t struct_size, T defaults, size_t first_size, const char* function) {
  require(out, function, "options");
  if (struct_size < first_size)
    fail(ORTLM_ERROR_INVALID_ARGUMENT,
         std::string(function) + ": struct_size " + std::to_string(struct_size) +
             " is smaller than the struct's first version (" + std::to_string(first_size) + " bytes)");
  defaults.struct_size = std::min(struct_size, sizeof(T));
  std::memcpy(static_cast<void*>(out), &defaults, defaults.struct_size);
}

// What a model handle and the generators made from it share, so that either may be freed first.
struct SharedModel {
  std::shared_ptr<Model> model;
  std::string provider = "cpu";  // what the model was loaded with (LLMzip archives record it)
  // LLMzip's codec, made on first use (it hashes the model's files once).
  std::mutex codec_mutex;
  std::unique_ptr<llmzip::Codec> codec;
  // Loaded on first use: a model whose template cannot be read still generates.
  std::mutex template_mutex;
  std::optional<ChatTemplate> chat_template;
};

// Sets `flag` while a call that runs token callbacks is in progress (cleared however it ends), so
// that a callback calling back into it is refused instead of re-entering it.
class CallbackScope {
 public:
  explicit CallbackScope(bool& flag) : flag_(flag) { flag_ = true; }
  ~CallbackScope() { flag_ = false; }
  CallbackScope(const CallbackScope&) = delete;
  CallbackScope& operator=(const CallbackScope&) = delete;

 private:
  bool& flag_;
};

// The C options as the C++ API's (fields read only as far as struct_size covers them; NULL = defaults).
GenerationOptions generation_options(const ortlm_generation_options* c, const char* fn);
// A C request made ready for the C++ API: its options read and checked, its prompt encoded when it
// came as text. Checks as the engine would, but with INVALID_ARGUMENT (the caller's mistake) for
// what the C++ API reports as a generic error; caps max_new_tokens at what the context allows.
struct CheckedRequest {
  GenerationOptions options;
  std::vector<int32_t> encoded;  // the text prompt's ids
  std::span<const int32_t> given;
  bool from_text = false;
  std::span<const int32_t> ids() const { return from_text ? std::span<const int32_t>(encoded) : given; }
};
// `text` is null for a prompt given as ids.
CheckedRequest check_request(const Model& model, std::span<const int32_t> ids, const std::string_view* text,
                             const ortlm_generation_options* options, const char* fn);
// A C token callback as the C++ API's; `piece` holds one call's text, NUL-terminated for C.
TokenCallback token_callback(ortlm_token_callback callback, void* user_data, std::string& piece);

// Copies `text` into a caller buffer under the two-call pattern (NUL-terminated).
void copy_text_out(std::string_view text, char* buffer, size_t capacity, size_t* out_length,
                   const char* function);

}  // namespace ortlm::capi

struct ortlm_model {
  std::shared_ptr<ortlm::capi::SharedModel> shared;
};

struct ortlm_generator {
  std::shared_ptr<ortlm::capi::SharedModel> shared;
  ortlm::Generator generator;
  std::string piece;  // the streamed text of one callback, NUL-terminated for C
};

struct ortlm_result {
  ortlm::GenerationResult result;
  std::vector<std::vector<ortlm_token_logprob>> top;  // result.logprobs[i].top, as C structs
};

namespace ortlm::capi {
std::unique_ptr<ortlm_result> make_result(GenerationResult&& result);
}
