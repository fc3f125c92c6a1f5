// The baseline for `ortlm generate`: the plainest greedy KV-cache loop of ORT Run() calls, with
// ONNX Runtime allocating every output. ortlm must be at least as fast (bench/vs_transformers_js.sh).
// Usage: bench_bare_ort_loop MODEL_DIR --ids 1,2,3 -n 400   -> {"tokens_per_second": x, "new_ids": [...]}
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "model/io_layout.hpp"
#include "model/model_config.hpp"
#include "model/model_files.hpp"
#include "model/ort_session.hpp"

using namespace ortlm;

namespace {

Ort::Value int_tensor(const model::TensorSpec& spec, const std::vector<int64_t>& values,
                      std::vector<int64_t> shape) {
  Ort::AllocatorWithDefaultOptions allocator;
  auto v = Ort::Value::CreateTensor(allocator, shape.data(), shape.size(), spec.type);
  if (spec.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
    std::copy(values.begin(), values.end(), v.GetTensorMutableData<int64_t>());
  } else {
    auto* out = v.GetTensorMutableData<int32_t>();
    for (size_t i = 0; i < values.size(); ++i) out[i] = static_cast<int32_t>(values[i]);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s MODEL_DIR --ids 1,2,3 -n N\n", argv[0]);
    return 2;
  }
  std::vector<int64_t> ids{1};
  int steps = 100;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--ids")) {
      ids.clear();
      for (char* tok = std::strtok(argv[i + 1], ","); tok; tok = std::strtok(nullptr, ","))
        ids.push_back(std::atoll(tok));
    } else if (!std::strcmp(argv[i], "-n")) {
      steps = std::atoi(argv[i + 1]);
    }
  }
  const auto files = model::locate_model_files(argv[1]);
  const auto configs = model::read_model_config(files.folder);
  Ort::Session session = model::create_session(files.onnx, {});
  const auto layout = model::detect_io_layout(session, configs.names, configs.config, files.onnx.string());
  const bool combined = layout.kv_layout == model::KvLayout::combined;

  std::vector<std::string> input_names, output_names{layout.logits.name};
  for (const auto& kv : layout.kv) {
    output_names.push_back(kv.present_key);
    if (!combined) output_names.push_back(kv.present_value);
  }
  std::vector<const char*> output_ptrs;
  for (const auto& n : output_names) output_ptrs.push_back(n.c_str());

  // Empty past for the first step.
  Ort::AllocatorWithDefaultOptions allocator;
  std::vector<Ort::Value> past;
  std::vector<int64_t> past_shape = combined
                                        ? std::vector<int64_t>{2, 1, layout.kv_heads, 0, layout.head_size}
                                        : std::vector<int64_t>{1, layout.kv_heads, 0, layout.head_size};
  for (size_t i = 0; i < layout.kv.size() * (combined ? 1 : 2); ++i)
    past.push_back(Ort::Value::CreateTensor(allocator, past_shape.data(), past_shape.size(), layout.kv_type));

  std::vector<int64_t> all = ids, new_ids;
  std::vector<int64_t> step_ids = ids;
  double decode_seconds = 0;
  for (int step = 0; step < steps; ++step) {
    const auto t0 = std::chrono::steady_clock::now();
    const int64_t n = static_cast<int64_t>(step_ids.size()), total = static_cast<int64_t>(all.size());
    std::vector<Ort::Value> inputs;
    std::vector<const char*> names;
    inputs.push_back(int_tensor(layout.input_ids, step_ids, {1, n}));
    names.push_back(layout.input_ids.name.c_str());
    if (layout.attention_mask) {
      inputs.push_back(int_tensor(*layout.attention_mask, std::vector<int64_t>(total, 1), {1, total}));
      names.push_back(layout.attention_mask->name.c_str());
    }
    if (layout.position_ids) {
      std::vector<int64_t> pos(n);
      for (int64_t i = 0; i < n; ++i) pos[i] = total - n + i;
      inputs.push_back(int_tensor(*layout.position_ids, pos, {1, n}));
      names.push_back(layout.position_ids->name.c_str());
    }
    size_t p = 0;
    for (const auto& kv : layout.kv) {
      inputs.push_back(std::move(past[p++]));
      names.push_back(kv.past_key.c_str());
      if (!combined) {
        inputs.push_back(std::move(past[p++]));
        names.push_back(kv.past_value.c_str());
      }
    }
    auto outputs = session.Run(Ort::RunOptions{}, names.data(), inputs.data(), inputs.size(),
                               output_ptrs.data(), output_ptrs.size());
    const float* logits = outputs[0].GetTensorData<float>() + (n - 1) * layout.vocab_size;
    const int64_t next = std::max_element(logits, logits + layout.vocab_size) - logits;
    for (size_t i = 1; i < outputs.size(); ++i) past[i - 1] = std::move(outputs[i]);
    new_ids.push_back(next);
    all.push_back(next);
    step_ids.assign(1, next);
    if (step > 0)
      decode_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::printf("{\"tokens_per_second\": %.2f, \"new_ids\": [", steps > 1 ? (steps - 1) / decode_seconds : 0.0);
  for (size_t i = 0; i < new_ids.size(); ++i)
    std::printf("%s%lld", i ? ", " : "", static_cast<long long>(new_ids[i]));
  std::printf("]}\n");
  return 0;
}
