#include "model/silu_mul_op.hpp"

#include <stdexcept>
#include <string>
#include <vector>

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

std::string shape_text(const std::vector<int64_t>& dims) {
  std::string s = "[";
  for (size_t i = 0; i < dims.size(); ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
  return s + "]";
}

class SiluMulKernel {
 public:
  explicit SiluMulKernel(const OrtKernelInfo*) : silu_mul_(kernels::select_silu_mul()) {}

  OrtStatusPtr ComputeV2(OrtKernelContext* raw) noexcept {
    try {
      compute(Ort::KernelContext(raw));
      return nullptr;
    } catch (const std::exception& e) {
      return Ort::GetApi().CreateStatus(ORT_INVALID_ARGUMENT, e.what());
    }
  }

 private:
  void compute(const Ort::KernelContext& context) const {
    const Ort::ConstValue gate = context.GetInput(0);
    const Ort::ConstValue up = context.GetInputCount() > 1 ? context.GetInput(1) : Ort::ConstValue(nullptr);
    std::vector<int64_t> dims = gate.GetTensorTypeAndShapeInfo().GetShape();
    if (dims.empty()) throw std::invalid_argument("SiluMul: the gate is a scalar");
    const int64_t input_width = dims.back();
    if (up) {
      if (up.GetTensorTypeAndShapeInfo().GetShape() != dims)
        throw std::invalid_argument("SiluMul: gate " + shape_text(dims) + " and up " +
                                    shape_text(up.GetTensorTypeAndShapeInfo().GetShape()) +
                                    " differ in shape");
    } else {
      if (input_width % 2 != 0)
        throw std::invalid_argument("SiluMul: the packed gate and up " + shape_text(dims) +
                                    " has an odd last dim");
      dims.back() /= 2;
    }
    Ort::UnownedValue output = context.GetOutput(0, dims.data(), dims.size());
    const int64_t width = dims.back();
    if (width == 0) return;
    const int64_t rows = output.GetTensorTypeAndShapeInfo().GetElementCount() / static_cast<size_t>(width);
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

struct SiluMulOp : Ort::CustomOpBase<SiluMulOp, SiluMulKernel, true> {
  OrtStatusPtr CreateKernelV2(const OrtApi& api, const OrtKernelInfo* info, void** kernel) const noexcept {
    try {
      *kernel = new SiluMulKernel(info);
      return nullptr;
    } catch (const std::exception& e) {
      return api.CreateStatus(ORT_FAIL, e.what());
    }
  }
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
