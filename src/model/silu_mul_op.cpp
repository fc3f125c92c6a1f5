#include "model/silu_mul_op.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>

#include "model/custom_op_base.hpp"
#include "model/custom_op_tensor.hpp"
#include "model/silu_mul_kernel.hpp"

namespace ortlm::model {
namespace {

// Rows handed to one thread of ONNX Runtime's pool at a time: a prompt's rows are split, a decode
// step's one row (a few thousand values) runs on the calling thread.
constexpr int64_t kParallelMinimumValues = int64_t{1} << 16;

struct Job {
  kernels::SiluMulFn silu_mul;
  const float *gate, *up;
  float* out;
  int64_t width;        // F: output values per row
  int64_t input_width;  // F (two inputs) or 2F (packed)
};

void run_rows(void* data, size_t row) {
  const auto& job = *static_cast<const Job*>(data);
  const auto r = static_cast<int64_t>(row);
  const float* gate = job.gate + r * job.input_width;
  const float* up = job.up ? job.up + r * job.width : gate + job.width;
  job.silu_mul(gate, up, job.out + r * job.width, job.width);
}

class SiluMulKernel {
 public:
  explicit SiluMulKernel(const OrtKernelInfo*) : silu_mul_(kernels::select_silu_mul()) {}

  OrtStatusPtr ComputeV2(OrtKernelContext* raw) noexcept {
    return compute_status([&] { compute(Ort::KernelContext(raw)); });
  }

 private:
  void compute(const Ort::KernelContext& context) const {
    const Ort::ConstValue gate = context.GetInput(0);
    const Ort::ConstValue up = context.GetInputCount() > 1 ? context.GetInput(1) : Ort::ConstValue(nullptr);
    TensorView dims = tensor_view(gate);
    if (dims.rank == 0 || dims.rank > TensorView::kMaxRank)
      throw std::invalid_argument("SiluMul: inputs of rank " + std::to_string(dims.rank) +
                                  " (1 to 8 are read)");
    int64_t& last = dims.dims[dims.rank - 1];
    const int64_t input_width = last;
    if (up) {
      const TensorView up_dims = tensor_view(up);
      if (!up_dims.same_shape(dims))
        throw std::invalid_argument("SiluMul: gate " + dims.shape_text() + " and up " + up_dims.shape_text() +
                                    " differ in shape");
    } else {
      if (input_width % 2 != 0)
        throw std::invalid_argument("SiluMul: the packed gate and up " + dims.shape_text() +
                                    " has an odd last dim");
      last /= 2;
    }
    Ort::UnownedValue output = context.GetOutput(0, dims.dims.data(), dims.rank);
    const int64_t width = last;
    if (width == 0) return;
    const int64_t rows = dims.elements / input_width;
    Job job{silu_mul_,
            gate.GetTensorData<float>(),
            up ? up.GetTensorData<float>() : nullptr,
            output.GetTensorMutableData<float>(),
            width,
            input_width};
    if (rows * width < kParallelMinimumValues) {
      for (int64_t r = 0; r < rows; ++r) run_rows(&job, static_cast<size_t>(r));
    } else {
      context.ParallelFor(run_rows, static_cast<size_t>(rows), 0, &job);
    }
  }

  kernels::SiluMulFn silu_mul_;
};

struct SiluMulOp : OrtlmCustomOp<SiluMulOp, SiluMulKernel> {
  const char* GetName() const { return "SiluMul"; }
  size_t GetInputTypeCount() const { return 2; }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t index) const {
    return index == 0 ? INPUT_OUTPUT_REQUIRED : INPUT_OUTPUT_OPTIONAL;
  }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

}  // namespace

const OrtCustomOp* silu_mul_op() {
  static const SiluMulOp* op = new SiluMulOp();  // never destroyed: sessions may outlive statics
  return op;
}

}  // namespace ortlm::model
