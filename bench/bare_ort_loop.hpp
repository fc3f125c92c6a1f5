#pragma once
// The plainest greedy KV-cache loop of ONNX Runtime Run() calls, over B rows whose prompts have one
// length, with ONNX Runtime allocating every output: the floor any engine on ONNX Runtime pays.
// Used by bench_bare_ort_loop (its own session) and bench_engine (the engine's own session, one step
// at a time, alternating with the engine's steps).
#include <onnxruntime_cxx_api.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "model/io_layout.hpp"

namespace ortlm::bench {

class BareOrtLoop {
 public:
  using Clock = std::chrono::steady_clock;

  // `prompts`: one per row, all of the same (non-zero) length.
  BareOrtLoop(Ort::Session& session, const model::IoLayout& layout, std::vector<std::vector<int64_t>> prompts)
      : session_(session), layout_(layout), rows_(static_cast<int64_t>(prompts.size())) {
    if (prompts.empty() || prompts[0].empty()) throw std::runtime_error("bare loop: no prompt");
    for (const auto& p : prompts)
      if (p.size() != prompts[0].size()) throw std::runtime_error("bare loop: prompts of different lengths");
    if (layout.use_cache_branch || layout.seqlens_k || layout.total_sequence_length)
      throw std::runtime_error("bare loop: only the plain layout (ids, mask, positions, past) is supported");
    if (layout.logits.type != ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || layout.vocab_size <= 0)
      throw std::runtime_error("bare loop: needs float32 logits with a static vocabulary axis");
    combined_ = layout.kv_layout == model::KvLayout::combined;
    output_names_.push_back(layout.logits.name.c_str());
    for (const auto& kv : layout.kv) {
      output_names_.push_back(kv.present_key.c_str());
      if (!combined_) output_names_.push_back(kv.present_value.c_str());
    }
    // Empty past for the first step.
    const std::vector<int64_t> past_shape =
        combined_ ? std::vector<int64_t>{2, rows_, layout.kv_heads, 0, layout.head_size}
                  : std::vector<int64_t>{rows_, layout.kv_heads, 0, layout.head_size};
    for (size_t i = 0; i < layout.kv.size() * (combined_ ? 1 : 2); ++i)
      past_.push_back(
          Ort::Value::CreateTensor(allocator_, past_shape.data(), past_shape.size(), layout.kv_type));
    step_ids_ = std::move(prompts);
    length_ = static_cast<int64_t>(step_ids_[0].size());
    new_ids_.resize(step_ids_.size());
  }

  // One Run(): the prompts on the first call, then each row's last token. Returns the step's seconds
  // (inputs, Run, argmax per row, keeping the present as the next past).
  double step() {
    const auto t0 = Clock::now();
    const int64_t n = static_cast<int64_t>(step_ids_[0].size()), total = length_;
    std::vector<Ort::Value> inputs;
    std::vector<const char*> names;
    std::vector<int64_t> values;
    for (const auto& row : step_ids_) values.insert(values.end(), row.begin(), row.end());
    inputs.push_back(int_tensor(layout_.input_ids, values, {rows_, n}));
    names.push_back(layout_.input_ids.name.c_str());
    if (layout_.attention_mask) {
      inputs.push_back(
          int_tensor(*layout_.attention_mask, std::vector<int64_t>(rows_ * total, 1), {rows_, total}));
      names.push_back(layout_.attention_mask->name.c_str());
    }
    if (layout_.position_ids) {
      values.clear();
      for (int64_t r = 0; r < rows_; ++r)
        for (int64_t i = 0; i < n; ++i) values.push_back(total - n + i);
      inputs.push_back(int_tensor(*layout_.position_ids, values, {rows_, n}));
      names.push_back(layout_.position_ids->name.c_str());
    }
    size_t p = 0;
    for (const auto& kv : layout_.kv) {
      inputs.push_back(std::move(past_[p++]));
      names.push_back(kv.past_key.c_str());
      if (!combined_) {
        inputs.push_back(std::move(past_[p++]));
        names.push_back(kv.past_value.c_str());
      }
    }
    const auto run_start = Clock::now();
    auto outputs = session_.Run(Ort::RunOptions{}, names.data(), inputs.data(), inputs.size(),
                                output_names_.data(), output_names_.size());
    run_seconds_ = std::chrono::duration<double>(Clock::now() - run_start).count();
    const size_t vocab = static_cast<size_t>(layout_.vocab_size);
    const float* logits = outputs[0].GetTensorData<float>();
    for (size_t r = 0; r < step_ids_.size(); ++r) {
      const float* row = logits + (r * static_cast<size_t>(n) + static_cast<size_t>(n - 1)) * vocab;
      const int64_t next = std::max_element(row, row + vocab) - row;
      new_ids_[r].push_back(next);
      step_ids_[r].assign(1, next);
    }
    for (size_t i = 1; i < outputs.size(); ++i) past_[i - 1] = std::move(outputs[i]);
    ++length_;
    return std::chrono::duration<double>(Clock::now() - t0).count();
  }

  // Seconds inside Session::Run in the last step.
  double last_run_seconds() const { return run_seconds_; }
  // Per row, the ids generated so far.
  const std::vector<std::vector<int64_t>>& new_ids() const { return new_ids_; }

 private:
  Ort::Value int_tensor(const model::TensorSpec& spec, const std::vector<int64_t>& values,
                        std::vector<int64_t> shape) {
    auto v = Ort::Value::CreateTensor(allocator_, shape.data(), shape.size(), spec.type);
    if (spec.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
      std::copy(values.begin(), values.end(), v.GetTensorMutableData<int64_t>());
    } else {
      auto* out = v.GetTensorMutableData<int32_t>();
      for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<int32_t>(values[i]);
    }
    return v;
  }

  Ort::Session& session_;
  const model::IoLayout& layout_;
  Ort::AllocatorWithDefaultOptions allocator_;
  int64_t rows_;
  bool combined_ = false;
  std::vector<const char*> output_names_;
  std::vector<Ort::Value> past_;
  std::vector<std::vector<int64_t>> step_ids_;
  int64_t length_ = 0;  // tokens per row after the next step's inputs (past + new)
  std::vector<std::vector<int64_t>> new_ids_;
  double run_seconds_ = 0;
};

}  // namespace ortlm::bench
