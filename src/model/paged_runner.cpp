#include "model/paged_runner.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <string>

#include "graph/passes/paged_attention.hpp"
#include "model/integer_buffer.hpp"
#include "ortlm/error.hpp"

namespace ortlm::model {
PagedRunner::PagedRunner(Ort::Session& session, const IoLayout& layout, int32_t context_length,
                         KvBlockPool& pool)
    : session_(session),
      layout_(layout),
      context_length_(context_length),
      pool_(pool),
      memory_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)),
      binding_(session),
      pool_handle_(pool.handle()) {
  if (!layout.position_ids) throw Error("the paged runner needs a graph with position_ids");
  if (layout.vocab_size <= 0) throw Error("the paged runner needs the vocabulary size");
  if (pool.kv_type() != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT)
    throw Error("the paged runner supports float32 KV only (the pool holds " +
                std::string(element_type_name(pool.kv_type())) + ")");
}

void PagedRunner::build(const PagedBatch& batch) {
  const size_t rows = batch.rows.size();
  if (rows == 0) throw Error("forward: an empty batch");
  row_starts_.assign(1, 0);
  cached_.clear();
  logits_index_.clear();
  logits_.reset(static_cast<int32_t>(layout_.vocab_size), rows);
  int64_t tokens = 0;
  size_t width = 1;
  for (size_t r = 0; r < rows; ++r) {
    const PagedRow& row = batch.rows[r];
    const auto n = static_cast<int64_t>(row.tokens.size());
    for (int32_t id : row.tokens)
      if (id < 0 || id >= layout_.vocab_size)
        throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary (size " +
                    std::to_string(layout_.vocab_size) + ")");
    if (row.cached < 0)
      throw Error("row " + std::to_string(r) + ": negative cached length " + std::to_string(row.cached));
    if (int64_t{row.cached} + n > context_length_)
      throw Error("row " + std::to_string(r) + ": the sequence (" + std::to_string(int64_t{row.cached} + n) +
                  " tokens) exceeds the model's context length " + std::to_string(context_length_));
    const size_t wanted = row.logits == LogitsWanted::all    ? static_cast<size_t>(n)
                          : row.logits == LogitsWanted::last ? std::min<size_t>(static_cast<size_t>(n), 1)
                                                             : 0;
    for (size_t k = 0; k < wanted; ++k)
      logits_index_.push_back(tokens + n - static_cast<int64_t>(wanted - k));
    logits_.add_row(wanted);
    tokens += n;
    row_starts_.push_back(static_cast<int32_t>(tokens));
    cached_.push_back(row.cached);
    width = std::max(width, row.blocks.size());
  }
  if (tokens == 0) throw Error("forward: no input ids");
  tokens_ = tokens;
  table_width_ = static_cast<int64_t>(width);
  // Unused entries (past a row's own table) are never read: the op reads only the blocks a row's
  // positions need, after checking them against the pool.
  block_tables_.assign(rows * width, -1);
  for (size_t r = 0; r < rows; ++r)
    std::copy(batch.rows[r].blocks.begin(), batch.rows[r].blocks.end(), block_tables_.begin() + r * width);
  auto token_at = [&](size_t i, auto&& of) {
    size_t r = static_cast<size_t>(std::upper_bound(row_starts_.begin(), row_starts_.end(), i) -
                                   row_starts_.begin()) -
               1;
    return of(r, i - static_cast<size_t>(row_starts_[r]));
  };
  const auto t = static_cast<size_t>(tokens);
  fill_integers(ids_, layout_.input_ids.type, t, [&](size_t i) -> int64_t {
    return token_at(i, [&](size_t r, size_t k) { return batch.rows[r].tokens[k]; });
  });
  fill_integers(positions_, layout_.position_ids->type, t, [&](size_t i) -> int64_t {
    return token_at(i, [&](size_t r, size_t k) { return batch.rows[r].cached + static_cast<int64_t>(k); });
  });
}

const Logits& PagedRunner::run(const PagedBatch& batch) {
  build(batch);
  const auto rows = static_cast<int64_t>(batch.rows.size());
  const auto wanted = static_cast<int64_t>(logits_index_.size());
  const std::array<int64_t, 2> packed{1, tokens_};
  const std::array<int64_t, 1> starts_shape{rows + 1}, rows_shape{rows}, one{1}, wanted_shape{wanted};
  const std::array<int64_t, 2> tables_shape{rows, table_width_};
  auto bind = [&](const char* name, void* data, size_t bytes, std::span<const int64_t> shape,
                  ONNXTensorElementDataType type) {
    binding_.BindInput(name,
                       Ort::Value::CreateTensor(memory_, data, bytes, shape.data(), shape.size(), type));
  };
  const auto int32 = ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32, int64 = ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64;
  const size_t t = static_cast<size_t>(tokens_);
  bind(layout_.input_ids.name.c_str(), ids_.data(), t * element_size(layout_.input_ids.type), packed,
       layout_.input_ids.type);
  bind(layout_.position_ids->name.c_str(), positions_.data(), t * element_size(layout_.position_ids->type),
       packed, layout_.position_ids->type);
  bind(graph::paged::kRowStarts, row_starts_.data(), row_starts_.size() * sizeof(int32_t), starts_shape,
       int32);
  bind(graph::paged::kCachedLengths, cached_.data(), cached_.size() * sizeof(int32_t), rows_shape, int32);
  bind(graph::paged::kBlockTables, block_tables_.data(), block_tables_.size() * sizeof(int32_t), tables_shape,
       int32);
  bind(graph::paged::kKvPool, &pool_handle_, sizeof(int64_t), one, int64);
  // An empty index list still needs a valid address.
  if (logits_index_.capacity() == 0) logits_index_.reserve(1);
  bind(graph::paged::kLogitsIndex, logits_index_.data(), logits_index_.size() * sizeof(int64_t), wanted_shape,
       int64);

  const size_t vocab = static_cast<size_t>(layout_.vocab_size);
  const size_t floats = static_cast<size_t>(wanted) * vocab;
  if (logits_raw_.size() < std::max<size_t>(floats, 1)) logits_raw_.resize(std::max<size_t>(floats, 1));
  const std::array<int64_t, 3> logits_shape{1, wanted, layout_.vocab_size};
  binding_.BindOutput(
      layout_.logits.name.c_str(),
      Ort::Value::CreateTensor(memory_, logits_raw_.data(), floats * sizeof(float), logits_shape.data(),
                               logits_shape.size(), ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT));
  try {
    session_.Run(run_options_, binding_);
  } catch (const Ort::Exception& e) {
    throw Error(std::string("ONNX Runtime failed to run the paged model: ") + e.what());
  }
  for (size_t r = 0, k = 0; r < batch.rows.size(); ++r)
    for (size_t i = 0; i < logits_.count(r); ++i, ++k)
      std::memcpy(logits_.mutable_at(r, i).data(), logits_raw_.data() + k * vocab, vocab * sizeof(float));
  return logits_;
}

}  // namespace ortlm::model
