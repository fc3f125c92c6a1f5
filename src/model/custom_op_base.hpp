#pragma once
// What ortlm's ONNX Runtime custom operators (model/paged_attention_op, model/silu_mul_op,
// model/int4_matmul_op) share: the operator makes its kernel from the node's info, and exceptions
// become ONNX Runtime statuses (a bad attribute fails the session, bad inputs fail the Run()) instead
// of crossing the C API.
#include <onnxruntime_cxx_api.h>

#include <exception>

namespace ortlm::model {

// Base of an operator `Op` whose kernels are `Kernel(const OrtKernelInfo*)`, with ComputeV2.
template <typename Op, typename Kernel>
struct OrtlmCustomOp : Ort::CustomOpBase<Op, Kernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi& api, const OrtKernelInfo* info, void** kernel) const noexcept {
    try {
      *kernel = new Kernel(info);
      return nullptr;
    } catch (const std::exception& e) {
      return api.CreateStatus(ORT_INVALID_ARGUMENT, e.what());
    }
  }
};

// `compute()`'s outcome as a ComputeV2 status: an exception's message fails the Run().
template <typename Compute>
OrtStatusPtr compute_status(Compute&& compute) noexcept {
  try {
    compute();
    return nullptr;
  } catch (const std::exception& e) {
    return Ort::GetApi().CreateStatus(ORT_INVALID_ARGUMENT, e.what());
  }
}

}  // namespace ortlm::model
