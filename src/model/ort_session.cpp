#include "model/ort_session.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdlib>
#include <string>
#include <thread>
#include <utility>

#include "ortlm/error.hpp"

namespace ortlm::model {

uintmax_t weight_bytes(const std::filesystem::path& onnx, const graph::OnnxSummary& summary) {
  uintmax_t bytes = std::filesystem::file_size(onnx);
  for (const auto& location : summary.external_data_files)
    bytes += std::filesystem::file_size(onnx.parent_path() / location);
  return bytes;
}

SessionOptions resolve_threads(SessionOptions options, uintmax_t weights) {
  if (options.intra_op_threads == 0 && weights < kSmallModelBytes) options.intra_op_threads = 1;
  return options;
}

Ort::Env& ort_env() {
  static Ort::Env& env = []() -> Ort::Env& {
    // ONNX Runtime 1.2x+ on Linux starts a telemetry system when the Env is created: it writes a
    // device id and an event database under ~/.cache/Microsoft, would upload events over HTTPS, and
    // runs a recursive std::regex over /proc/self/cmdline, so a long prompt given with -p (50 KB of
    // argv) overflows the stack inside it. A local engine sends nothing anywhere: off before creation.
    ::setenv("ORT_DISABLE_TELEMETRY", "1", 1);
    // Failures reach ortlm as statuses, reported with the file or option named; ONNX Runtime's own
    // log lines would only repeat them in another format.
    static Ort::Env created(ORT_LOGGING_LEVEL_FATAL, "ortlm");
    created.DisableTelemetryEvents();
    return created;
  }();
  return env;
}

std::string execution_provider_name(const std::string& provider) {
  static constexpr std::array<std::pair<const char*, const char*>, 11> kNames{{
      {"cpu", "CPUExecutionProvider"},
      {"cuda", "CUDAExecutionProvider"},
      {"tensorrt", "TensorrtExecutionProvider"},
      {"rocm", "ROCMExecutionProvider"},
      {"migraphx", "MIGraphXExecutionProvider"},
      {"dml", "DmlExecutionProvider"},
      {"coreml", "CoreMLExecutionProvider"},
      {"openvino", "OpenVINOExecutionProvider"},
      {"xnnpack", "XnnpackExecutionProvider"},
      {"qnn", "QNNExecutionProvider"},
      {"webgpu", "WebGpuExecutionProvider"},
  }};
  std::string lower = provider;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  for (const auto& [short_name, ort_name] : kNames) {
    std::string ort_lower = ort_name;
    std::transform(ort_lower.begin(), ort_lower.end(), ort_lower.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    if (lower == short_name || lower == ort_lower) return ort_name;
  }
  throw Error("unknown execution provider '" + provider +
              "' (known: cpu, cuda, tensorrt, rocm, migraphx, dml, coreml, openvino, xnnpack, qnn, webgpu)");
}

namespace {

void append_available_provider(Ort::SessionOptions& session_options, const std::string& name);

void append_provider(Ort::SessionOptions& session_options, const std::string& provider) {
  const std::string name = execution_provider_name(provider);
  if (name == "CPUExecutionProvider") return;
  const auto available = Ort::GetAvailableProviders();
  std::string list;
  for (const auto& p : available) list += (list.empty() ? "" : ", ") + p;
  if (std::find(available.begin(), available.end(), name) == available.end())
    throw Error("execution provider '" + provider + "' (" + name +
                ") is not available in this ONNX Runtime build (available: " + list +
                "); build with -DORT_ROOT=<an ONNX Runtime release that has it>");
  try {
    append_available_provider(session_options, name);
  } catch (const Ort::Exception& e) {
    // Builds may list a provider whose own libraries (and drivers) are not installed.
    throw Error("execution provider '" + provider + "' (" + name + ") could not be initialised: " + e.what() +
                " (this ONNX Runtime build lists: " + list +
                "; the provider also needs its own libraries and drivers: build with -DORT_ROOT=<an ONNX "
                "Runtime release that has them>)");
  }
}

void append_available_provider(Ort::SessionOptions& session_options, const std::string& name) {
  if (name == "CUDAExecutionProvider") {
    OrtCUDAProviderOptionsV2* cuda_options = nullptr;
    Ort::ThrowOnError(Ort::GetApi().CreateCUDAProviderOptions(&cuda_options));
    std::unique_ptr<OrtCUDAProviderOptionsV2, void (*)(OrtCUDAProviderOptionsV2*)> owner(
        cuda_options, Ort::GetApi().ReleaseCUDAProviderOptions);
    session_options.AppendExecutionProvider_CUDA_V2(*cuda_options);
    return;
  }
  // Providers registered by name (QNN, XNNPACK, OpenVINO, WebGPU, ...); names without the suffix.
  std::string short_name = name.substr(0, name.size() - std::string("ExecutionProvider").size());
  session_options.AppendExecutionProvider(short_name, {});
}

GraphOptimizationLevel optimization_level(int level) {
  switch (level) {
    case 0:
      return GraphOptimizationLevel::ORT_DISABLE_ALL;
    case 1:
      return GraphOptimizationLevel::ORT_ENABLE_BASIC;
    case 2:
      return GraphOptimizationLevel::ORT_ENABLE_EXTENDED;
    case 99:
      return GraphOptimizationLevel::ORT_ENABLE_ALL;
    default:
      throw Error("graph optimization level must be 0, 1, 2 or 99, not " + std::to_string(level));
  }
}

// ONNX Runtime accepts any count and spends seconds (1,000) or forever (100,000) creating threads.
void check_thread_count(const char* what, int threads) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int most = kMaxThreadsPerCore * cores;
  if (threads < 0 || threads > most)
    throw Error(std::string(what) + " must be in [0, " + std::to_string(most) + "] (0 = auto; at most " +
                std::to_string(kMaxThreadsPerCore) + " x the " + std::to_string(cores) +
                " logical cores of this machine), not " + std::to_string(threads));
}

Ort::SessionOptions session_options_for(const SessionOptions& options) {
  check_thread_count("threads (intra-op)", options.intra_op_threads);
  check_thread_count("inter-op threads", options.inter_op_threads);
  ort_env();  // before any other ONNX Runtime call: provider set-up logs through the Env's logger
  Ort::SessionOptions session_options;
  if (options.intra_op_threads > 0) session_options.SetIntraOpNumThreads(options.intra_op_threads);
  if (options.inter_op_threads > 0) session_options.SetInterOpNumThreads(options.inter_op_threads);
  session_options.SetGraphOptimizationLevel(optimization_level(options.graph_optimization_level));
  // Decoding changes the input shapes every step (the past grows by one), so a memory pattern
  // planned for one shape is never reused: planning it each run only costs time (~12% per token).
  session_options.DisableMemPattern();
  if (!options.cpu_arena) session_options.DisableCpuMemArena();
  append_provider(session_options, options.provider);
  return session_options;
}

}  // namespace

Ort::Session create_session(const std::filesystem::path& onnx_path, const SessionOptions& options) {
  auto session_options = session_options_for(options);
  try {
    return Ort::Session(ort_env(), onnx_path.c_str(), session_options);
  } catch (const Ort::Exception& e) {
    throw Error(onnx_path.string() + ": ONNX Runtime cannot load the model: " + e.what());
  }
}

Ort::Session create_session_from_bytes(const std::string& model_bytes, const std::filesystem::path& onnx_path,
                                       const SessionOptions& options,
                                       const std::function<void(Ort::SessionOptions&)>& configure) {
  auto session_options = session_options_for(options);
  if (configure) configure(session_options);
  session_options.AddConfigEntry("session.model_external_initializers_file_folder_path",
                                 onnx_path.parent_path().c_str());
  try {
    return Ort::Session(ort_env(), model_bytes.data(), model_bytes.size(), session_options);
  } catch (const Ort::Exception& e) {
    throw Error(onnx_path.string() + " (rewritten): ONNX Runtime cannot load the model: " + e.what());
  }
}

}  // namespace ortlm::model
