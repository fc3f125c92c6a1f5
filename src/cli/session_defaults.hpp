#pragma once
// Session options every CLI command starts from, and the flags that change them.
#include <CLI/CLI.hpp>
#include <map>
#include <string>

#include "ortlm/model.hpp"

namespace ortlm::cli {

inline SessionOptions default_session_options() {
  SessionOptions options;
#ifdef ORTLM_CLI_HAS_MIMALLOC
  options.cpu_arena = false;  // mimalloc serves ONNX Runtime's allocations faster than its arena
#endif
  return options;
}

// --threads, --provider and --fusion, shared by the commands that load a model.
inline void add_session_flags(CLI::App* cmd, SessionOptions& options) {
  cmd->add_option("--threads", options.intra_op_threads, "ONNX Runtime intra-op threads (0 = default)");
  cmd->add_option("--provider", options.provider, "Execution provider: cpu, cuda, ...")
      ->capture_default_str();
  cmd->add_option_function<std::string>(
         "--fusion",
         [&options](const std::string& mode) {
           const std::map<std::string, AttentionFusion> modes{{"auto", AttentionFusion::automatic},
                                                              {"on", AttentionFusion::always},
                                                              {"off", AttentionFusion::never}};
           auto it = modes.find(mode);
           if (it == modes.end())
             throw CLI::ValidationError("--fusion", "must be auto, on or off, not '" + mode + "'");
           options.attention_fusion = it->second;
         },
         "Rewrite attention into fused operators at load: auto (models under 64 MiB), on, off")
      ->default_str("auto");
}

}  // namespace ortlm::cli
