#pragma once
// The process-wide ONNX Runtime environment and session creation (one session per model).
#include <onnxruntime_cxx_api.h>

#include <filesystem>
#include <functional>
#include <string>

#include "graph/onnx_summary.hpp"
#include "ortlm/model.hpp"

namespace ortlm::model {

// Weights of the .onnx file and its external data files.
uintmax_t weight_bytes(const std::filesystem::path& onnx, const graph::OnnxSummary& summary);

// Below this size a decode step is dominated by per-operator overhead, not by reading weights.
inline constexpr uintmax_t kSmallModelBytes = 64u << 20;
// Block-quantized weights are read several times faster than float32, so a step's few hundred
// dispatches weigh as much in a quantized model four times larger (the 135M model at 4 bits: 106 MB).
inline constexpr uintmax_t kSmallQuantizedModelBytes = 256u << 20;

// With intra_op_threads = 0, small models run on one thread: a decode step of a few-MB model takes
// microseconds per operator, less than waking a second thread costs. Larger models keep ONNX
// Runtime's default (one thread per physical core).
SessionOptions resolve_threads(SessionOptions options, uintmax_t weights);

// One Ort::Env per process, created on first use.
Ort::Env& ort_env();

// Creates a session for `onnx_path`; external data files are resolved beside it.
// Throws ortlm::Error naming the file, or the provider the ONNX Runtime build lacks.
Ort::Session create_session(const std::filesystem::path& onnx_path, const SessionOptions& options);

// Creates a session for a model given as bytes (a rewrite of `onnx_path`, whose folder holds any
// external data files). `configure` adds to ONNX Runtime's options (custom operators).
Ort::Session create_session_from_bytes(const std::string& model_bytes, const std::filesystem::path& onnx_path,
                                       const SessionOptions& options,
                                       const std::function<void(Ort::SessionOptions&)>& configure = {});

// The ONNX Runtime name of a provider given as cpu, cuda, ... (or already as XxxExecutionProvider).
std::string execution_provider_name(const std::string& provider);

}  // namespace ortlm::model
