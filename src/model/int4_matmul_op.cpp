#include "model/int4_matmul_op.hpp"

#include <algorithm>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "graph/passes/int4_matmul.hpp"
#include "model/custom_op_base.hpp"
#include "model/custom_op_tensor.hpp"
#include "model/int4_matmul_kernel.hpp"

namespace ortlm::model {
namespace {

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
    const int64_t k = required_attribute(info, "K"), n = required_attribute(info, "N");
    const int64_t block = required_attribute(info, "block_size"),
                  handle = required_attribute(info, "weights");
    weights_ = graph::find_int4_weights(handle);
    if (!weights_)
      throw std::invalid_argument("Int4MatMul: no weights under handle " + std::to_string(handle) +
                                  " (only ortlm's load-time rewrite makes this operator)");
    if (weights_->k != k || weights_->n != n || weights_->block != block)
      throw std::invalid_argument("Int4MatMul: the weights under handle " + std::to_string(handle) +
                                  " are K " + std::to_string(weights_->k) + ", N " +
                                  std::to_string(weights_->n) + ", block " + std::to_string(weights_->block) +
                                  "; the node says K " + std::to_string(k) + ", N " + std::to_string(n) +
                                  ", block " + std::to_string(block));
    int8_ = info.GetAttribute<int64_t>("accuracy_level") == 4;
    const auto kernels = kernels::select_int4_matmul();
    fn_ = int8_ ? kernels.int8 : kernels.floats;
  }

  OrtStatusPtr ComputeV2(OrtKernelContext* raw) noexcept {
    return compute_status([&] { compute(Ort::KernelContext(raw)); });
  }

 private:
  void compute(const Ort::KernelContext& context) const {
    const graph::Int4Weights& w = *weights_;
    const int64_t groups = w.groups(), blocks = w.k / w.block;
    TensorView a = tensor_view(context.GetInput(0));
    if (a.rank == 0 || a.rank > TensorView::kMaxRank || a.last() != w.k)
      throw std::invalid_argument("Int4MatMul: A " + a.shape_text() +
                                  " does not end in K = " + std::to_string(w.k));
    const int64_t rows = a.elements / w.k;
    TensorView out_dims = a;
    out_dims.dims[a.rank - 1] = w.n;
    Ort::UnownedValue output = context.GetOutput(0, out_dims.dims.data(), out_dims.rank);
    if (rows == 0) return;

    const float* a_data = a.as<float>();
    Scratch& s = scratch();
    const auto row_blocks = static_cast<size_t>(rows * blocks);
    if (s.sums.size() < row_blocks) s.sums.resize(row_blocks);
    kernels::Int4MatMulArgs args{.rows = rows,
                                 .k = w.k,
                                 .n = w.n,
                                 .block = w.block,
                                 .levels = w.levels.data(),
                                 .scales = w.scales.data(),
                                 .zero_points = w.zero_points.empty() ? nullptr : w.zero_points.data(),
                                 .a_levels = nullptr,
                                 .a_scales = nullptr,
                                 .a = nullptr,
                                 .a_sums = s.sums.data(),
                                 .out = output.GetTensorMutableData<float>()};
    if (int8_) {
      if (s.levels.size() < static_cast<size_t>(rows * w.k)) s.levels.resize(static_cast<size_t>(rows * w.k));
      if (s.scales.size() < row_blocks) s.scales.resize(row_blocks);
      kernels::quantize_rows_int8(a_data, rows, w.k, w.block, s.levels.data(), s.scales.data(),
                                  s.sums.data());
      args.a_levels = s.levels.data();
      args.a_scales = s.scales.data();
    } else {
      kernels::block_sums(a_data, rows, w.k, w.block, s.sums.data());
      args.a = a_data;
    }
    // One row: a few groups per item, read side by side; more rows: a group per item, all rows in it.
    Job job{fn_, &args, groups, rows == 1 ? kGroupsPerItem : 1};
    const int64_t items = (groups + job.groups_per_item - 1) / job.groups_per_item;
    if (rows * w.k * w.n < kParallelMinimumProducts || items == 1)
      fn_(args, 0, groups);
    else
      context.ParallelFor(run_item, static_cast<size_t>(items), 0, &job);
  }

  std::shared_ptr<const graph::Int4Weights> weights_;  // held while the session lives
  bool int8_ = true;
  kernels::Int4MatMulFn fn_ = nullptr;
};

struct Int4MatMulOp : OrtlmCustomOp<Int4MatMulOp, Int4MatMulKernel> {
  const char* GetName() const { return "Int4MatMul"; }
  size_t GetInputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetInputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
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
