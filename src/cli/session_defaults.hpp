#pragma once
// Session options every CLI command starts from, and the flags that change them (and the KV cache's,
// for the commands that run an engine).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <map>
#include <string>
#include <thread>

#include "ortlm/engine_options.hpp"
#include "ortlm/model.hpp"

namespace ortlm::cli {

inline SessionOptions default_session_options() {
  SessionOptions options;
#ifdef ORTLM_CLI_HAS_MIMALLOC
  options.cpu_arena = false;  // mimalloc serves ONNX Runtime's allocations faster than its arena
#endif
  return options;
}

// --threads, --provider, --fusion and --context, shared by the commands that load a model.
inline void add_session_flags(CLI::App* cmd, SessionOptions& options) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int most_threads = kMaxThreadsPerCore * cores;
  cmd->add_option("--threads", options.intra_op_threads,
                  "ONNX Runtime intra-op threads: 0 = auto, at most " + std::to_string(most_threads) + " (" +
                      std::to_string(kMaxThreadsPerCore) + " x the logical cores)")
      ->check(CLI::Range(0, most_threads));
  cmd->add_option(
         "--context", options.context_length,
         "Context length in tokens (default: the model's; needed for a bare .onnx without config.json)")
      ->check(CLI::Range(1, kMaxContextLength));
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

// --kv and --kv-mib: where running sequences keep their KV (EngineOptions::kv_cache, kv_cache_mib).
inline void add_kv_flags(CLI::App* cmd, EngineOptions& options) {
  const auto name = [](KvCacheKind kind) {
    return kind == KvCacheKind::dense ? "dense" : kind == KvCacheKind::paged ? "paged" : "auto";
  };
  cmd->add_option_function<std::string>(
         "--kv",
         [&options](const std::string& kind) {
           const std::map<std::string, KvCacheKind> kinds{{"dense", KvCacheKind::dense},
                                                          {"paged", KvCacheKind::paged},
                                                          {"auto", KvCacheKind::automatic}};
           auto it = kinds.find(kind);
           if (it == kinds.end())
             throw CLI::ValidationError("--kv", "must be dense, paged or auto, not '" + kind + "'");
           options.kv_cache = it->second;
         },
         "KV cache: paged (blocks read in place by ortlm's attention operator; a second session of the "
         "model), dense (the exported graph's tensors), auto (paged where the graph allows it)")
      ->default_str(name(options.kv_cache));
  cmd->add_option("--kv-mib", options.kv_cache_mib,
                  "Paged KV memory for running sequences in MiB, besides the prefix cache (0 = the batch's "
                  "full contexts, at most 1 GiB)")
      ->check(CLI::Range(0, kMaxPrefixCacheMib))
      ->capture_default_str();
}

}  // namespace ortlm::cli
