#include "model/int4_matmul_op.hpp"

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/custom_op_base.hpp"
#include "model/custom_op_tensor.hpp"
#include "model/int4_matmul_kernel.hpp"

namespace ortlm::model {
namespace {

constexpr int64_t kGroup = 16;
// Column groups handed to one thread at a time, for one row: the kernel's side-by-side groups.
constexpr int64_t kGroupsPerItem = 4;
// Products below which the calling thread computes alone (dispatch costs more than it saves).
constexpr int64_t kParallelMinimumProducts = int64_t{1} << 15;

// A's quantized form or block sums, per thread of the caller: grown once, then reused every step.
struct Scratch {
  std::vector<int8_t> levels;
  std::vector<float> scales, sums;
};
Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

struct Job {
  kernels::Int4MatMulFn fn;
  const kernels::Int4MatMulArgs* args;
  int64_t groups, groups_per_item;
};

void run_item(void* data, size_t item) {
  const auto& job = *static_cast<const Job*>(data);
  const int64_t begin = static_cast<int64_t>(item) * job.groups_per_item;
  job.fn(*job.args, begin, std::min(job.groups, begin + job.groups_per_item));
}

int64_t required_attribute(const Ort::ConstKernelInfo& info, const char* name) {
  const auto value = info.GetAttribute<int64_t>(name);
  if (value <= 0)
    throw std::invalid_argument(std::string("Int4MatMul: attribute ") + name + " must be positive");
  return value;
}

class Int4MatMulKernel {
 public:
  explicit Int4MatMulKernel(const OrtKernelInfo* raw) {
    const Ort::ConstKernelInfo info(raw);
    k_ = required_attribute(info, "K");
    n_ = required_attribute(info, "N");
    block_ = required_attribute(info, "block_size");
    if (block_ % 8 != 0 || k_ % block_ != 0)
      throw std::invalid_argument("Int4MatMul: block_size " + std::to_string(block_) +
                                  " is not a multiple of 8 dividing K " + std::to_string(k_));
    int8_ = info.GetAttribute<int64_t>("accuracy_level") == 4;
    const auto kernels = kernels::select_int4_matmul();
    fn_ = int8_ ? kernels.int8 : kernels.floats;
  }

  OrtStatusPtr ComputeV2(OrtKernelContext* raw) noexcept {
    return compute_status([&] { compute(Ort::KernelContext(raw)); });
  }

 private:
  void expect(const TensorView& t, ONNXTensorElementDataType type, std::initializer_list<int64_t> dims,
              const char* what) const {
    bool same = t.type == type && t.rank == dims.size();
    size_t i = 0;
    for (int64_t d : dims) same = same && t.dims[i++] == d;
    if (!same) {
      std::string want = "[";
      for (int64_t d : dims) want += (want.size() > 1 ? ", " : "") + std::to_string(d);
      throw std::invalid_argument(std::string("Int4MatMul: ") + what + " is " + t.shape_text() +
                                  (t.type == type ? "" : " of another element type") + ", expected " + want +
                                  "]");
    }
  }

  void compute(const Ort::KernelContext& context) const {
    const int64_t groups = (n_ + kGroup - 1) / kGroup, blocks = k_ / block_;
    TensorView a = tensor_view(context.GetInput(0));
    if (a.rank == 0 || a.rank > TensorView::kMaxRank || a.last() != k_)
      throw std::invalid_argument("Int4MatMul: A " + a.shape_text() +
                                  " does not end in K = " + std::to_string(k_));
    expect(tensor_view(context.GetInput(1)), ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, {groups, k_ / 8, 64},
           "levels");
    expect(tensor_view(context.GetInput(2)), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, {groups, blocks, kGroup},
           "scales");
    const Ort::ConstValue zero_points =
        context.GetInputCount() > 3 ? context.GetInput(3) : Ort::ConstValue(nullptr);
    if (zero_points)
      expect(tensor_view(zero_points), ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8, {groups, blocks, kGroup},
             "zero points");
    const int64_t rows = a.elements / k_;
    TensorView out_dims = a;
    out_dims.dims[a.rank - 1] = n_;
    Ort::UnownedValue output = context.GetOutput(0, out_dims.dims.data(), out_dims.rank);
    if (rows == 0) return;

    const float* a_data = a.as<float>();
    Scratch& s = scratch();
    const auto row_blocks = static_cast<size_t>(rows * blocks);
    if (s.sums.size() < row_blocks) s.sums.resize(row_blocks);
    kernels::Int4MatMulArgs args{.rows = rows,
                                 .k = k_,
                                 .n = n_,
                                 .block = block_,
                                 .levels = context.GetInput(1).GetTensorData<uint8_t>(),
                                 .scales = context.GetInput(2).GetTensorData<float>(),
                                 .zero_points = zero_points ? zero_points.GetTensorData<uint8_t>() : nullptr,
                                 .a_levels = nullptr,
                                 .a_scales = nullptr,
                                 .a = nullptr,
                                 .a_sums = s.sums.data(),
                                 .out = output.GetTensorMutableData<float>()};
    if (int8_) {
      if (s.levels.size() < static_cast<size_t>(rows * k_)) s.levels.resize(static_cast<size_t>(rows * k_));
      if (s.scales.size() < row_blocks) s.scales.resize(row_blocks);
      kernels::quantize_rows_int8(a_data, rows, k_, block_, s.levels.data(), s.scales.data(), s.sums.data());
      args.a_levels = s.levels.data();
      args.a_scales = s.scales.data();
    } else {
      kernels::block_sums(a_data, rows, k_, block_, s.sums.data());
      args.a = a_data;
    }
    // One row: a few groups per item, read side by side; more rows: a group per item, all rows in it.
    Job job{fn_, &args, groups, rows == 1 ? kGroupsPerItem : 1};
    const int64_t items = (groups + job.groups_per_item - 1) / job.groups_per_item;
    if (rows * k_ * n_ < kParallelMinimumProducts || items == 1)
      fn_(args, 0, groups);
    else
      context.ParallelFor(run_item, static_cast<size_t>(items), 0, &job);
  }

  int64_t k_ = 0, n_ = 0, block_ = 0;
  bool int8_ = true;
  kernels::Int4MatMulFn fn_ = nullptr;
};

struct Int4MatMulOp : OrtlmCustomOp<Int4MatMulOp, Int4MatMulKernel> {
  const char* GetName() const { return "Int4MatMul"; }
  size_t GetInputTypeCount() const { return 4; }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t index) const {
    return index < 3 ? INPUT_OUTPUT_REQUIRED : INPUT_OUTPUT_OPTIONAL;
  }
  ONNXTensorElementDataType GetInputType(size_t index) const {
    return index == 0 || index == 2 ? ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT
                                    : ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8;
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

}  // namespace

bool int4_matmul_available() {
  bool fast = false;
  kernels::select_int4_matmul(&fast);
  return fast;
}

const OrtCustomOp* int4_matmul_op() {
  static const Int4MatMulOp* op = new Int4MatMulOp();  // never destroyed: sessions may outlive statics
  return op;
}

}  // namespace ortlm::model
