#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/regex.hpp"

#include <pcre2.h>

#include "ortlm/error.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

namespace {

// Match data and JIT stack of the calling thread, shared by all patterns.
struct ThreadMatchState {
  pcre2_match_data* data = pcre2_match_data_create(16, nullptr);
  pcre2_jit_stack* jit_stack = pcre2_jit_stack_create(32 * 1024, 4 * 1024 * 1024, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  ThreadMatchState() { pcre2_jit_stack_assign(context, nullptr, jit_stack); }
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
      throw Error("regex match failed (PCRE2 error " + std::to_string(rc) + ")");
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
