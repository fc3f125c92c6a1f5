#include "model/model_runner.hpp"

#include <algorithm>
#include <array>
#include <cstring>

#include "ortlm/error.hpp"

namespace ortlm::model {

namespace {

// Writes `values` into `buffer` as the graph's integer type (int32 or int64), reusing its storage.
void fill_integers(std::vector<int64_t>& buffer, ONNXTensorElementDataType type, size_t count,
                   auto&& value_at) {
  if (buffer.size() < count) buffer.resize(count);
  if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
    for (size_t i = 0; i < count; ++i) buffer[i] = value_at(i);
  } else {
    auto* narrow = reinterpret_cast<int32_t*>(buffer.data());
    for (size_t i = 0; i < count; ++i) narrow[i] = static_cast<int32_t>(value_at(i));
  }
}

}  // namespace

ModelRunner::ModelRunner(Ort::Session session, IoLayout layout, int32_t context_length)
    : session_(std::move(session)),
      layout_(std::move(layout)),
      context_length_(context_length),
      memory_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)),
      binding_(session_),
      kv_(layout_) {
  if (layout_.vocab_size <= 0)
    throw Error("the logits output '" + layout_.logits.name +
                "' has a dynamic vocabulary axis; cannot size it");
  last_logits_.resize(static_cast<size_t>(layout_.vocab_size));
}

void ModelRunner::begin(int32_t capacity) {
  capacity = std::min(capacity, context_length_);
  kv_.reset(capacity);
  mask_buffer_.reserve(static_cast<size_t>(capacity));
}

std::span<const float> ModelRunner::forward(std::span<const int32_t> ids) {
  if (ids.empty()) throw Error("forward: no input ids");
  if (position() + static_cast<int64_t>(ids.size()) > context_length_)
    throw Error("the sequence (" + std::to_string(position() + ids.size()) +
                " tokens) exceeds the model's context length " + std::to_string(context_length_));
  for (int32_t id : ids)
    if (id < 0 || id >= vocab_size())
      throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary (size " +
                  std::to_string(vocab_size()) + ")");
  if (position() + static_cast<int64_t>(ids.size()) > kv_.capacity())
    throw Error("the sequence exceeds the KV cache capacity " + std::to_string(kv_.capacity()) +
                " given to begin()");
  for (size_t start = 0; start < ids.size(); start += static_cast<size_t>(prefill_chunk_))
    run_chunk(ids.subspan(start, std::min(ids.size() - start, static_cast<size_t>(prefill_chunk_))));

  // Logits of the last position, as float32.
  const size_t vocab = last_logits_.size();
  const std::byte* last =
      logits_raw_.data() + (last_chunk_tokens_ - 1) * vocab * element_size(layout_.logits.type);
  if (layout_.logits.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
    std::memcpy(last_logits_.data(), last, vocab * sizeof(float));
  } else {
    const auto* half = reinterpret_cast<const Ort::Float16_t*>(last);
    for (size_t i = 0; i < vocab; ++i) last_logits_[i] = half[i].ToFloat();
  }
  return last_logits_;
}

void ModelRunner::bind_inputs(std::span<const int32_t> ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  const int64_t past = kv_.length();
  const int64_t total = past + n;
  // Shapes live on the stack: nothing here allocates once the buffers have grown to size.
  auto bind = [&](const TensorSpec& spec, void* data, std::span<const int64_t> shape) {
    size_t bytes = element_size(spec.type);
    for (auto d : shape) bytes *= static_cast<size_t>(d);
    binding_.BindInput(spec.name.c_str(),
                       Ort::Value::CreateTensor(memory_, data, bytes, shape.data(), shape.size(), spec.type));
  };
  fill_integers(ids_buffer_, layout_.input_ids.type, ids.size(), [&](size_t i) { return ids[i]; });
  const std::array<int64_t, 2> step_shape{1, n}, mask_shape{1, total};
  const std::array<int64_t, 1> one{1};
  bind(layout_.input_ids, ids_buffer_.data(), step_shape);
  if (layout_.attention_mask) {
    fill_integers(mask_buffer_, layout_.attention_mask->type, static_cast<size_t>(total),
                  [](size_t) { return 1; });
    bind(*layout_.attention_mask, mask_buffer_.data(), mask_shape);
  }
  if (layout_.position_ids) {
    fill_integers(positions_buffer_, layout_.position_ids->type, ids.size(),
                  [&](size_t i) { return past + static_cast<int64_t>(i); });
    bind(*layout_.position_ids, positions_buffer_.data(), step_shape);
  }
  if (layout_.use_cache_branch) {
    use_cache_flag_ = past > 0;
    bind(*layout_.use_cache_branch, &use_cache_flag_, one);
  }
  if (layout_.seqlens_k) {
    seqlens_buffer_.assign(1, static_cast<int32_t>(total - 1));
    bind(*layout_.seqlens_k, seqlens_buffer_.data(), one);
  }
  if (layout_.total_sequence_length) {
    total_length_buffer_.assign(1, static_cast<int32_t>(total));
    // A scalar or a [1] tensor, as the graph declares it.
    bind(*layout_.total_sequence_length, total_length_buffer_.data(),
         std::span(one).first(std::min<size_t>(layout_.total_sequence_length->shape.size(), 1)));
  }
}

void ModelRunner::run_chunk(std::span<const int32_t> ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  bind_inputs(ids);
  kv_.bind(binding_, memory_, n);
  const size_t logits_bytes = static_cast<size_t>(n * layout_.vocab_size) * element_size(layout_.logits.type);
  if (logits_raw_.size() < logits_bytes) logits_raw_.resize(logits_bytes);
  const int64_t logits_shape[] = {1, n, layout_.vocab_size};
  binding_.BindOutput(layout_.logits.name.c_str(),
                      Ort::Value::CreateTensor(memory_, logits_raw_.data(), logits_bytes, logits_shape, 3,
                                               layout_.logits.type));
  try {
    session_.Run(run_options_, binding_);
  } catch (const Ort::Exception& e) {
    throw Error(std::string("ONNX Runtime failed to run the model: ") + e.what());
  }
  kv_.advance(n);
  last_chunk_tokens_ = static_cast<int32_t>(n);
}

}  // namespace ortlm::model
