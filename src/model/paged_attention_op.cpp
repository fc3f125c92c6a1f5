#include "model/paged_attention_op.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/custom_op_base.hpp"
#include "model/custom_op_tensor.hpp"
#include "model/kv_block_pool.hpp"
#include "model/paged_attention_kernel.hpp"

namespace ortlm::model {
namespace {

std::atomic<uint64_t> g_nanoseconds{0};

// Below this many multiply-adds a call runs on the calling thread: handing work to ONNX Runtime's
// pool costs microseconds (more on a loaded machine, where a woken thread may wait for a core), as
// much as a decode step of a small model's attention takes whole.
constexpr int64_t kParallelMinimum = int64_t{1} << 18;

enum Input : size_t {
  kQuery,
  kKey,
  kValue,
  kRowStarts,
  kCachedLengths,
  kBlockTables,
  kKvPool,
  kRotaryCos,  // optional, with kRotarySin: rotate the queries and keys here
  kRotarySin,
  kInputCount
};
constexpr std::array<const char*, kInputCount> kInputNames{
    "query",        "key",     "value",      "row_starts", "cached_lengths",
    "block_tables", "kv_pool", "rotary_cos", "rotary_sin"};

// A bad input: the message becomes the Run()'s error.
[[noreturn]] void fail(const std::string& message) { throw std::invalid_argument(message); }

// An input's data and shape (rank 1 to 4), its type checked.
TensorView view(const Ort::KernelContext& context, Input index, ONNXTensorElementDataType type,
                const std::string& where) {
  const Ort::ConstValue value = context.GetInput(index);
  if (!value) fail(where + ": input " + kInputNames[index] + " is missing");
  const TensorView t = tensor_view(value);
  if (t.type != type || t.rank > 4 || t.rank == 0)
    fail(where + ": input " + kInputNames[index] + " has the wrong type or rank");
  return t;
}

// HF's rotate-half RoPE of one head (com.microsoft RotaryEmbedding, not interleaved) at the position whose
// table rows are `cos` and `sin` (head_size / 2 each), from `x` into `out`.
void rotate_half(const float* x, const float* cos, const float* sin, int64_t half, float* out) {
  for (int64_t i = 0; i < half; ++i) {
    const float a = x[i], b = x[i + half];
    out[i] = a * cos[i] - b * sin[i];
    out[i + half] = b * cos[i] + a * sin[i];
  }
}

// What every worker of one Compute shares.
struct Job {
  paged::AttendFn attend;
  paged::AttentionArgs args;
  const paged::AttentionWork* items;
  size_t scratch_floats;
};

void run_work_item(void* data, size_t index) {
  const auto& job = *static_cast<const Job*>(data);
  thread_local std::vector<float> scratch;  // grows to the largest item once per thread
  if (scratch.size() < job.scratch_floats) scratch.resize(job.scratch_floats);
  job.attend(job.args, job.items[index], scratch.data());
}

class PagedAttentionKernel {
 public:
  explicit PagedAttentionKernel(const OrtKernelInfo* info) {
    const Ort::ConstKernelInfo kernel_info(info);
    layer_ = kernel_info.GetAttribute<int64_t>("layer");
    heads_ = kernel_info.GetAttribute<int64_t>("num_heads");
    kv_heads_ = kernel_info.GetAttribute<int64_t>("kv_heads");
    head_size_ = kernel_info.GetAttribute<int64_t>("head_size");
    scale_ = kernel_info.GetAttribute<float>("scale");
    where_ = "PagedAttention (layer " + std::to_string(layer_) + ")";
    if (layer_ < 0 || heads_ <= 0 || kv_heads_ <= 0 || heads_ % kv_heads_ != 0 || head_size_ <= 0 ||
        heads_ > 4096 || head_size_ > 4096)
      fail(where_ + ": inconsistent attributes (num_heads " + std::to_string(heads_) + ", kv_heads " +
           std::to_string(kv_heads_) + ", head_size " + std::to_string(head_size_) + ")");
  }

  OrtStatusPtr ComputeV2(OrtKernelContext* context) noexcept {
    const auto start = std::chrono::steady_clock::now();
    OrtStatusPtr status = compute_status([&] { compute(Ort::KernelContext(context)); });
    g_nanoseconds += static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start)
            .count());
    return status;
  }

 private:
  void compute(const Ort::KernelContext& context);

  int64_t layer_ = 0, heads_ = 0, kv_heads_ = 0, head_size_ = 0;
  float scale_ = 1.0f;
  std::string where_;
};

void PagedAttentionKernel::compute(const Ort::KernelContext& context) {
  const auto kFloat = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT, kInt32 = ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
  const TensorView query = view(context, kQuery, kFloat, where_);
  // Without key and value inputs the query input is one stacked q/k/v projection's output.
  const bool stacked = !context.GetInput(kKey) && !context.GetInput(kValue);
  const TensorView key = stacked ? TensorView{} : view(context, kKey, kFloat, where_);
  const TensorView value = stacked ? TensorView{} : view(context, kValue, kFloat, where_);
  const TensorView row_starts = view(context, kRowStarts, kInt32, where_);
  const TensorView cached = view(context, kCachedLengths, kInt32, where_);
  const TensorView tables = view(context, kBlockTables, kInt32, where_);
  const TensorView pool_handle = view(context, kKvPool, ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64, where_);
  const bool rotary = context.GetInputCount() > kRotaryCos && context.GetInput(kRotaryCos);
  TensorView cos, sin;
  const int64_t half = head_size_ / 2;
  if (rotary) {
    cos = view(context, kRotaryCos, kFloat, where_);
    sin = view(context, kRotarySin, kFloat, where_);
    if (head_size_ % 2 != 0 || cos.rank != 2 || cos.dims[1] != half || sin.rank != 2 ||
        sin.dims[0] != cos.dims[0] || sin.dims[1] != half)
      fail(where_ + ": the rotary tables must both be [positions, head_size / 2 = " + std::to_string(half) +
           "]");
  }

  const int64_t query_width = heads_ * head_size_, kv_width = kv_heads_ * head_size_;
  // Values between one token's query (or key, value) and the next's.
  const int64_t query_stride = stacked ? query_width + 2 * kv_width : query_width;
  const int64_t kv_stride = stacked ? query_stride : kv_width;
  if (query.dims[query.rank - 1] != query_stride)
    fail(where_ + ": the query's last dim is " + std::to_string(query.dims[query.rank - 1]) + ", not " +
         (stacked ? "(heads + 2 x kv_heads) x head_size = " : "heads x head_size = ") +
         std::to_string(query_stride));
  const int64_t tokens = query.elements / query_stride;
  for (const auto* kv : {&key, &value})
    if (!stacked && (kv->dims[kv->rank - 1] != kv_width || kv->elements != tokens * kv_width))
      fail(where_ + ": the " + (kv == &key ? "keys" : "values") + " are not [" + std::to_string(tokens) +
           " tokens, " + std::to_string(kv_width) + "]");
  const float* keys_in = stacked ? query.as<float>() + query_width : key.as<float>();
  const float* values_in = stacked ? query.as<float>() + query_width + kv_width : value.as<float>();
  if (row_starts.rank != 1 || row_starts.elements < 2) fail(where_ + ": row_starts must be [rows + 1]");
  const int64_t rows = row_starts.elements - 1;
  if (cached.rank != 1 || cached.elements != rows)
    fail(where_ + ": cached_lengths has " + std::to_string(cached.elements) + " values for " +
         std::to_string(rows) + " rows");
  if (tables.rank != 2 || tables.dims[0] != rows)
    fail(where_ + ": block_tables must be [" + std::to_string(rows) + " rows, blocks]");
  if (pool_handle.elements != 1) fail(where_ + ": kv_pool must hold one handle");

  KvBlockPool* pool = KvBlockPool::find(*pool_handle.as<int64_t>());
  if (!pool)
    fail(where_ + ": no live KV block pool has handle " + std::to_string(*pool_handle.as<int64_t>()));
  if (pool->kv_type() != kFloat)
    fail(where_ + ": the KV block pool is not float32 (only fp32 KV is supported)");
  if (pool->kv_heads() != kv_heads_ || pool->head_size() != head_size_ ||
      static_cast<size_t>(layer_) >= pool->layers())
    fail(where_ + ": the KV block pool holds " + std::to_string(pool->layers()) + " layers of " +
         std::to_string(pool->kv_heads()) + " heads of size " + std::to_string(pool->head_size()));

  // The metadata, checked whole before anything is written.
  const int32_t* starts = row_starts.as<int32_t>();
  const int32_t* lengths = cached.as<int32_t>();
  const int32_t* table = tables.as<int32_t>();
  const int64_t width = tables.dims[1], block_size = pool->block_size();
  if (starts[0] != 0 || starts[rows] != tokens)
    fail(where_ + ": row_starts must run from 0 to the " + std::to_string(tokens) + " packed tokens");
  for (int64_t r = 0; r < rows; ++r) {
    // The row's name is built only for an error: this loop runs per row, layer and step.
    const auto row = [&] { return where_ + ": row " + std::to_string(r); };
    if (starts[r + 1] < starts[r]) fail(row() + ": row_starts decrease");
    if (lengths[r] < 0) fail(row() + ": negative cached length " + std::to_string(lengths[r]));
    const int64_t total = int64_t{lengths[r]} + starts[r + 1] - starts[r];
    if (rotary && total > cos.dims[0])
      fail(row() + ": position " + std::to_string(total - 1) + " is beyond the rotary tables (" +
           std::to_string(cos.dims[0]) + " positions)");
    const int64_t blocks = (total + block_size - 1) / block_size;
    if (blocks > width)
      fail(row() + ": position " + std::to_string(total - 1) + " is beyond its block table (" +
           std::to_string(width) + " blocks of " + std::to_string(block_size) + " tokens)");
    for (int64_t b = 0; b < blocks; ++b) {
      const int32_t id = table[r * width + b];
      if (id < 0 || id >= pool->num_blocks())
        fail(row() + ": block table entry " + std::to_string(b) + " is block " + std::to_string(id) +
             ", outside the pool's " + std::to_string(pool->num_blocks()) + " blocks");
    }
  }

  auto output_dims = query.dims;
  output_dims[query.rank - 1] = query_width;
  Ort::UnownedValue output = context.GetOutput(0, output_dims.data(), query.rank);
  if (tokens == 0) return;
  float* keys = reinterpret_cast<float*>(pool->block(static_cast<size_t>(layer_), 0, 0));
  float* values = reinterpret_cast<float*>(pool->block(static_cast<size_t>(layer_), 1, 0));

  // The new keys and values into their slots first: later tokens of a row attend to earlier ones.
  // With rotary tables the keys are rotated on the way; the queries are rotated (or, stacked, copied)
  // into a [tokens, heads x head_size] buffer of their own.
  const size_t head_bytes = static_cast<size_t>(head_size_) * sizeof(float);
  const bool own_queries = rotary || stacked;
  thread_local std::vector<float> queries;  // reused: no allocation once warm
  if (own_queries) queries.resize(static_cast<size_t>(tokens * query_width));
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t token = starts[r]; token < starts[r + 1]; ++token) {
      const int64_t position = lengths[r] + token - starts[r];
      const int64_t block = table[r * width + position / block_size], offset = position % block_size;
      const float* cos_row = rotary ? cos.as<float>() + position * half : nullptr;
      const float* sin_row = rotary ? sin.as<float>() + position * half : nullptr;
      for (int64_t g = 0; g < kv_heads_; ++g) {
        const int64_t slot = ((block * kv_heads_ + g) * block_size + offset) * head_size_;
        const int64_t from = token * kv_stride + g * head_size_;
        if (rotary)
          rotate_half(keys_in + from, cos_row, sin_row, half, keys + slot);
        else
          std::memcpy(keys + slot, keys_in + from, head_bytes);
        std::memcpy(values + slot, values_in + from, head_bytes);
      }
      if (own_queries)
        for (int64_t h = 0; h < heads_; ++h) {
          const float* from = query.as<float>() + token * query_stride + h * head_size_;
          float* to = queries.data() + token * query_width + h * head_size_;
          if (rotary)
            rotate_half(from, cos_row, sin_row, half, to);
          else
            std::memcpy(to, from, head_bytes);
        }
    }
  }

  thread_local std::vector<paged::AttentionWork> items;  // reused: no allocation once warm
  items.clear();
  int64_t work = 0;  // multiply-adds, roughly: 2 per query head, key and dim (scores, then values)
  for (int32_t r = 0; r < static_cast<int32_t>(rows); ++r) {
    const int32_t count = starts[r + 1] - starts[r];
    work += 2 * count * (lengths[r] + count) * query_width;
    for (int32_t first = 0; first < count; first += paged::kTileTokens)
      for (int32_t g = 0; g < static_cast<int32_t>(kv_heads_); ++g)
        items.push_back(
            {r, g, first, count - first < paged::kTileTokens ? count - first : paged::kTileTokens});
  }
  Job job{paged::select_attend(head_size_, block_size),
          {.query = own_queries ? queries.data() : query.as<float>(),
           .output = output.GetTensorMutableData<float>(),
           .row_starts = starts,
           .cached_lengths = lengths,
           .block_tables = table,
           .table_width = width,
           .keys = keys,
           .values = values,
           .heads = heads_,
           .kv_heads = kv_heads_,
           .head_size = head_size_,
           .block_size = block_size,
           .scale = scale_},
          items.data(),
          0};
  job.scratch_floats = paged::scratch_floats(job.args);
  if (work < kParallelMinimum) {
    for (size_t i = 0; i < items.size(); ++i) run_work_item(&job, i);
  } else {
    context.ParallelFor(run_work_item, items.size(), 0, &job);
  }
}

struct PagedAttentionOp : OrtlmCustomOp<PagedAttentionOp, PagedAttentionKernel> {
  const char* GetName() const { return "PagedAttention"; }
  size_t GetInputTypeCount() const { return kInputCount; }
  OrtCustomOpInputOutputCharacteristic GetInputCharacteristic(size_t index) const {
    const bool optional = index == kKey || index == kValue || index >= kRotaryCos;
    return optional ? INPUT_OUTPUT_OPTIONAL : INPUT_OUTPUT_REQUIRED;
  }
  ONNXTensorElementDataType GetInputType(size_t index) const {
    if (index <= kValue || index >= kRotaryCos) return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
    return index == kKvPool ? ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 : ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
  }
  size_t GetOutputTypeCount() const { return 1; }
  ONNXTensorElementDataType GetOutputType(size_t) const { return ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT; }
};

}  // namespace

const OrtCustomOp* paged_attention_op() {
  static const PagedAttentionOp* op =
      new PagedAttentionOp();  // never destroyed: sessions may outlive statics
  return op;
}

uint64_t paged_attention_nanoseconds() { return g_nanoseconds.load(); }

const char* paged_attention_isa(int64_t head_size, int64_t block_size) {
  const char* name = nullptr;
  paged::select_attend(head_size, block_size, &name);
  return name;
}

}  // namespace ortlm::model
