#pragma once
// The "ortlm" operator domain: ortlm's own ONNX Runtime custom operators (model/paged_attention_op,
// model/silu_mul_op, model/int4_matmul_op), which its load-time rewrites put into graphs. Sessions of
// rewritten graphs register it; the exported graphs never name it (the rewrites refuse graphs that do).
#include <onnxruntime_cxx_api.h>

namespace ortlm::model {

// Adds the domain to a session's options. The domain object lives for the process.
void add_ortlm_ops(Ort::SessionOptions& options);

}  // namespace ortlm::model
