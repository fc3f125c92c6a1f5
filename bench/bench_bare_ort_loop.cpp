// The baseline for `ortlm generate`: the plainest greedy KV-cache loop of ORT Run() calls, with
// ONNX Runtime allocating every output (bench/bare_ort_loop.hpp). ortlm must be at least as fast
// (bench/vs_transformers_js.sh).
// Usage: bench_bare_ort_loop MODEL_DIR --ids 1,2,3 -n 400 [--batch B] [--threads T] [--profile PREFIX]
//   -> {"tokens_per_second": x, "new_ids": [...], "batch": B, "step_ms": s, "run_ms": r}
// --batch B runs B copies of the prompt as one batch; new_ids are row 0's, tokens_per_second counts
// every row's decode tokens, step_ms / run_ms are the mean decode step and the mean time inside
// Session::Run per decode step.
// --profile PREFIX turns on ONNX Runtime's profiler (per-node times; the file's name goes to stderr;
// bench/ort_profile_summary.py sums it up). The session then has ortlm's settings (all graph
// optimizations, no memory pattern, one inter-op thread) and --threads T intra-op threads (0 = ONNX
// Runtime's default, ortlm's for models over 64 MiB).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include "bare_ort_loop.hpp"
#include "model/io_layout.hpp"
#include "model/model_config.hpp"
#include "model/model_files.hpp"
#include "model/ort_session.hpp"

using namespace ortlm;

int main(int argc, char** argv) try {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s MODEL_DIR --ids 1,2,3 -n N [--batch B] [--threads T] [--profile PREFIX]\n",
                 argv[0]);
    return 2;
  }
  std::vector<int64_t> ids{1};
  int steps = 100, batch = 1, threads = 0;
  std::string profile;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--ids")) {
      ids.clear();
      for (char* tok = std::strtok(argv[i + 1], ","); tok; tok = std::strtok(nullptr, ","))
        ids.push_back(std::atoll(tok));
    } else if (!std::strcmp(argv[i], "-n")) {
      steps = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--batch")) {
      batch = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--threads")) {
      threads = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--profile")) {
      profile = argv[i + 1];
    }
  }
  if (batch < 1 || steps < 1 || ids.empty()) {
    std::fprintf(stderr, "need --batch >= 1, -n >= 1 and a prompt\n");
    return 2;
  }
  const auto files = model::locate_model_files(argv[1]);
  const auto configs = model::read_model_config(files.folder);
  Ort::Session session{nullptr};
  if (profile.empty()) {
    SessionOptions options;
    options.intra_op_threads = threads;
    session = model::create_session(files.onnx, options);
  } else {
    model::ort_env();
    Ort::SessionOptions options;
    options.SetInterOpNumThreads(1);
    if (threads > 0) options.SetIntraOpNumThreads(threads);
    options.SetGraphOptimizationLevel(GraphOptimizationLevel::ORT_ENABLE_ALL);
    options.DisableMemPattern();
    options.EnableProfiling(profile.c_str());
    session = Ort::Session(model::ort_env(), files.onnx.c_str(), options);
  }
  const auto layout = model::detect_io_layout(session, configs.names, configs.config, files.onnx.string());

  bench::BareOrtLoop loop(session, layout, std::vector<std::vector<int64_t>>(batch, ids));
  double decode_seconds = 0, run_seconds = 0;
  for (int step = 0; step < steps; ++step) {
    const double seconds = loop.step();
    if (step > 0) {
      decode_seconds += seconds;
      run_seconds += loop.last_run_seconds();
    }
  }
  if (!profile.empty()) {
    Ort::AllocatorWithDefaultOptions allocator;
    std::fprintf(stderr, "profile: %s\n", session.EndProfilingAllocated(allocator).get());
  }
  const int decode_steps = steps - 1;
  std::printf(
      "{\"tokens_per_second\": %.2f, \"batch\": %d, \"step_ms\": %.3f, \"run_ms\": %.3f, \"new_ids\": [",
      decode_steps > 0 ? decode_steps * batch / decode_seconds : 0.0, batch,
      decode_steps > 0 ? 1e3 * decode_seconds / decode_steps : 0.0,
      decode_steps > 0 ? 1e3 * run_seconds / decode_steps : 0.0);
  const auto& new_ids = loop.new_ids()[0];
  for (size_t i = 0; i < new_ids.size(); ++i)
    std::printf("%s%lld", i ? ", " : "", static_cast<long long>(new_ids[i]));
  std::printf("]}\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
