#pragma once
// ortlm.SiluMul, the ONNX Runtime custom operator the load-time MLP rewrite (graph/passes/
// silu_mul_fusion) puts in place of a gated MLP's activation: out = silu(gate) * up, elementwise.
// Inputs: gate [..., F] and up [..., F]; or, without `up`, one packed [..., 2F] tensor whose rows hold
// gate then up (a stacked gate/up projection), which saves the Split. Output [..., F].
// Shapes are checked; a mismatch fails the Run() with a message naming the node's inputs.
#include <onnxruntime_cxx_api.h>

namespace ortlm::model {

// The operator, for the "ortlm" domain (model/custom_ops). Lives for the process.
const OrtCustomOp* silu_mul_op();

}  // namespace ortlm::model
