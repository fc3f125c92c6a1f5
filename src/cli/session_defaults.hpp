#pragma once
// Session options every CLI command starts from.
#include "ortlm/model.hpp"

namespace ortlm::cli {

inline SessionOptions default_session_options() {
  SessionOptions options;
#ifdef ORTLM_CLI_HAS_MIMALLOC
  options.cpu_arena = false;  // mimalloc serves ONNX Runtime's allocations faster than its arena
#endif
  return options;
}

}  // namespace ortlm::cli
