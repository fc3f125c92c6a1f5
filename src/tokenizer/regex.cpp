#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include <pcre2.h>

#include "ortlm/error.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

namespace {

// Limits of one match attempt. Real pre-tokenizer patterns need a few steps per byte of their
// match; a catastrophically backtracking one reaches the step limit in a fraction of a second.
constexpr uint32_t kMatchLimit = 10'000'000;        // backtracking steps (PCRE2's default)
constexpr uint32_t kDepthLimit = 10'000'000;        // nested backtracking points (interpreter)
constexpr uint32_t kHeapLimitKiB = 64 * 1024;       // their memory (interpreter; PCRE2's is 20 GB)
constexpr size_t kJitStackBytes = 4 * 1024 * 1024;  // backtracking memory (JIT)

// Match data and JIT stack of the calling thread, shared by all patterns.
struct ThreadMatchState {
  pcre2_match_data* data = pcre2_match_data_create(16, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, kJitStackBytes, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  ThreadMatchState() {
    pcre2_jit_stack_assign(context, nullptr, jit_stack);
    pcre2_set_match_limit(context, kMatchLimit);
    pcre2_set_depth_limit(context, kDepthLimit);
    pcre2_set_heap_limit(context, kHeapLimitKiB);
  }
  ~ThreadMatchState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
    pcre2_match_data_free(data);
  }
};

ThreadMatchState& thread_state() {
  thread_local ThreadMatchState state;
  return state;
}

}  // namespace

Regex::Regex(std::string_view pattern, std::string_view where) {
  int error = 0;
  PCRE2_SIZE error_offset = 0;
  auto* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                             PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    throw Error(std::string(where) + ": invalid regex \"" + std::string(pattern) + "\" at offset " +
                std::to_string(error_offset) + ": " + reinterpret_cast<const char*>(message));
  }
  jit_ = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
  code_ = code;
  constexpr size_t kShownPattern = 80;
  origin_ = std::string(where) + ": regex \"" + std::string(pattern.substr(0, kShownPattern)) +
            (pattern.size() > kShownPattern ? "...\"" : "\"");
}

void Regex::match_failed(int code, std::string_view subject) const {
  std::string what;
  switch (code) {
    case PCRE2_ERROR_MATCHLIMIT:
      what = "PCRE2 match limit (" + std::to_string(kMatchLimit) + " steps) exceeded";
      break;
    case PCRE2_ERROR_DEPTHLIMIT:
      what = "PCRE2 depth limit (" + std::to_string(kDepthLimit) + ") exceeded";
      break;
    case PCRE2_ERROR_HEAPLIMIT:
      what = "PCRE2 heap limit (" + std::to_string(kHeapLimitKiB / 1024) + " MiB) exceeded";
      break;
    case PCRE2_ERROR_JIT_STACKLIMIT:
      what = "PCRE2 JIT stack limit (" + std::to_string(kJitStackBytes >> 20) + " MiB) exceeded";
      break;
    default: {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(code, message, sizeof message);
      what = "PCRE2 error " + std::to_string(code) + " (" + reinterpret_cast<const char*>(message) + ")";
    }
  }
  throw Error(origin_ + ": " + what + " on input of " + std::to_string(subject.size()) + " bytes");
}

Regex::~Regex() { pcre2_code_free(static_cast<pcre2_code*>(code_)); }

bool Regex::find(std::string_view subject, size_t start, size_t& match_begin, size_t& match_end) const {
  auto& state = thread_state();
  auto* code = static_cast<pcre2_code*>(code_);
  auto subject_ptr = reinterpret_cast<PCRE2_SPTR>(subject.data());
  while (start <= subject.size()) {
    int rc = jit_ ? pcre2_jit_match(code, subject_ptr, subject.size(), start, 0, state.data, state.context)
                  : pcre2_match(code, subject_ptr, subject.size(), start, PCRE2_NO_UTF_CHECK, state.data,
                                state.context);
    if (rc < 0) {
      if (rc == PCRE2_ERROR_NOMATCH) return false;
      match_failed(rc, subject);
    }
    const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(state.data);
    if (ovector[1] > ovector[0]) {
      match_begin = ovector[0];
      match_end = ovector[1];
      return true;
    }
    // An empty match: look again from the next character.
    if (ovector[0] >= subject.size()) return false;
    start = ovector[0] + utf8::sequence_length(static_cast<unsigned char>(subject[ovector[0]]));
  }
  return false;
}

}  // namespace ortlm::tok
