#pragma once
// ortlm.Int4MatMul, the ONNX Runtime custom operator the load-time rewrite graph/passes/int4_matmul puts
// in place of 4-bit MatMulNBits: out [..., N] = A [..., K] · W, W's levels, scales and zero points
// interleaved 16 columns at a time (graph::Int4Weights, found by the node's `weights` handle and held by
// the kernel while its session lives). accuracy_level 4 computes with A quantized to int8 per block, as
// ONNX Runtime does; any other value in float32 (the load-time probe). Weights that do not match the
// node's K, N and block size fail the session; an A that does not end in K fails the Run().
#include <onnxruntime_cxx_api.h>

namespace ortlm::model {

// The operator, for the "ortlm" domain (model/custom_ops). Lives for the process.
const OrtCustomOp* int4_matmul_op();

// Whether this CPU runs the operator's vector kernel (AVX-512 VNNI). Without it the scalar reference
// would be slower than ONNX Runtime's MatMulNBits, so the load-time rewrites leave those in place.
bool int4_matmul_available();

}  // namespace ortlm::model
