#include "model/input_builder.hpp"

#include <algorithm>
#include <array>

#include "model/integer_buffer.hpp"
#include "ortlm/error.hpp"

namespace ortlm::model {

InputBuilder::InputBuilder(const IoLayout& layout) : layout_(layout) {}

void InputBuilder::add(const TensorSpec& spec, void* data, std::span<const int64_t> shape,
                       const Ort::MemoryInfo& memory) {
  size_t bytes = element_size(spec.type);
  for (auto d : shape) bytes *= static_cast<size_t>(d);
  names_[count_] = spec.name.c_str();
  values_[count_] = Ort::Value::CreateTensor(memory, data, bytes, shape.data(), shape.size(), spec.type);
  ++count_;
}

int64_t InputBuilder::build(const ForwardBatch& batch, const KvCache& kv, const Ort::MemoryInfo& memory) {
  const size_t rows = batch.rows.size();
  if (rows == 0) throw Error("forward: an empty batch");
  if (rows != kv.rows())
    throw Error("forward: " + std::to_string(rows) + " batch rows for " + std::to_string(kv.rows()) +
                " KV rows");
  new_tokens_.resize(rows);
  int64_t columns = 0;
  for (size_t r = 0; r < rows; ++r) {
    const auto& tokens = batch.rows[r].tokens;
    for (int32_t id : tokens)
      if (id < 0 || id >= layout_.vocab_size)
        throw Error("token id " + std::to_string(id) + " is outside the model's vocabulary (size " +
                    std::to_string(layout_.vocab_size) + ")");
    new_tokens_[r] = static_cast<int32_t>(tokens.size());
    columns = std::max<int64_t>(columns, static_cast<int64_t>(tokens.size()));
  }
  if (columns == 0) throw Error("forward: no input ids");
  const int64_t width = kv.width(), total = width + columns;
  const auto b = static_cast<int64_t>(rows);
  const auto t = static_cast<size_t>(columns), w = static_cast<size_t>(width);
  count_ = 0;
  // The mask grows by a column per step: sized for the cache's capacity once per wave, not per step.
  const size_t most_mask = rows * static_cast<size_t>(std::max<int64_t>(kv.capacity(), total));
  if (mask_.capacity() < most_mask) mask_.reserve(most_mask);

  // Left padding: row r's n new tokens take the last n of the T columns, the columns before are
  // padding. Right padding: they take the first n, and the row's keys are a prefix.
  const bool left = layout_.padding == Padding::left;
  auto first_real = [&](size_t r) { return left ? t - static_cast<size_t>(new_tokens_[r]) : 0; };
  fill_integers(ids_, layout_.input_ids.type, rows * t, [&](size_t i) -> int64_t {
    const size_t r = i / t, c = i % t, first = first_real(r);
    return c >= first && c < first + static_cast<size_t>(new_tokens_[r]) ? batch.rows[r].tokens[c - first]
                                                                         : 0;
  });
  const std::array<int64_t, 2> step_shape{b, columns}, mask_shape{b, total};
  add(layout_.input_ids, ids_.data(), step_shape, memory);
  if (layout_.attention_mask) {
    fill_integers(mask_, layout_.attention_mask->type, rows * (w + t), [&](size_t i) -> int64_t {
      const size_t r = i / (w + t), c = i % (w + t);
      if (!left) return static_cast<int64_t>(c) < kv.length(r) + new_tokens_[r];
      return c < w ? kv.key_valid(r)[c] : c - w >= first_real(r);
    });
    add(*layout_.attention_mask, mask_.data(), mask_shape, memory);
  }
  if (layout_.position_ids) {
    fill_integers(positions_, layout_.position_ids->type, rows * t, [&](size_t i) -> int64_t {
      const size_t r = i / t, c = i % t, first = first_real(r);
      return c >= first && c < first + static_cast<size_t>(new_tokens_[r])
                 ? kv.length(r) + static_cast<int64_t>(c - first)
                 : 0;
    });
    add(*layout_.position_ids, positions_.data(), step_shape, memory);
  }
  static constexpr std::array<int64_t, 1> kOne{1};
  if (layout_.use_cache_branch) {
    use_cache_flag_ = width > 0;
    add(*layout_.use_cache_branch, &use_cache_flag_, kOne, memory);
  }
  // GroupQueryAttention: each row's total length minus one (its keys are a prefix: right padding).
  if (layout_.seqlens_k) {
    seqlens_.resize(rows);
    for (size_t r = 0; r < rows; ++r) seqlens_[r] = static_cast<int32_t>(kv.length(r) + new_tokens_[r] - 1);
    const std::array<int64_t, 1> shape{b};
    add(*layout_.seqlens_k, seqlens_.data(), shape, memory);
  }
  if (layout_.total_sequence_length) {
    total_length_.assign(1, static_cast<int32_t>(total));
    // A scalar or a [1] tensor, as the graph declares it.
    add(*layout_.total_sequence_length, total_length_.data(),
        std::span(kOne).first(std::min<size_t>(layout_.total_sequence_length->shape.size(), 1)), memory);
  }
  return columns;
}

}  // namespace ortlm::model
