#include "model/model_runner.hpp"

#include <cstring>

#include "ortlm/error.hpp"

namespace ortlm::model {

ModelRunner::ModelRunner(const Decoder& decoder)
    : decoder_(decoder),
      memory_(Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault)),
      binding_(decoder.session),
      inputs_(decoder.layout) {
  if (decoder_.layout.vocab_size <= 0)
    throw Error("the logits output '" + decoder_.layout.logits.name +
                "' has a dynamic vocabulary axis; cannot size it");
}

const Logits& ModelRunner::run(const ForwardBatch& batch, KvCache& kv) {
  const IoLayout& layout = decoder_.layout;
  const int64_t columns = inputs_.build(batch, kv, memory_);
  const auto new_tokens = inputs_.new_tokens();
  for (size_t r = 0; r < new_tokens.size(); ++r)
    if (kv.length(r) + new_tokens[r] > decoder_.context_length)
      throw Error("the sequence (" + std::to_string(kv.length(r) + new_tokens[r]) +
                  " tokens) exceeds the model's context length " + std::to_string(decoder_.context_length));
  const auto names = inputs_.names();
  const auto values = inputs_.values();
  for (size_t i = 0; i < names.size(); ++i) binding_.BindInput(names[i], values[i]);
  kv.bind(binding_, memory_, columns);

  const auto rows = static_cast<int64_t>(batch.rows.size());
  const size_t vocab = static_cast<size_t>(layout.vocab_size);
  const size_t element = element_size(layout.logits.type);
  const size_t logits_bytes = static_cast<size_t>(rows * columns) * vocab * element;
  if (logits_raw_.size() < logits_bytes) logits_raw_.resize(logits_bytes);
  const int64_t logits_shape[] = {rows, columns, layout.vocab_size};
  binding_.BindOutput(layout.logits.name.c_str(),
                      Ort::Value::CreateTensor(memory_, logits_raw_.data(), logits_bytes, logits_shape, 3,
                                               layout.logits.type));
  try {
    decoder_.session.Run(run_options_, binding_);
  } catch (const Ort::Exception& e) {
    throw Error(std::string("ONNX Runtime failed to run the model: ") + e.what());
  }
  kv.commit(new_tokens, columns);

  // The requested positions, as float32.
  logits_.reset(static_cast<int32_t>(vocab), batch.rows.size());
  for (size_t r = 0; r < batch.rows.size(); ++r) {
    const auto n = static_cast<size_t>(new_tokens[r]);
    const auto wanted = batch.rows[r].logits;
    logits_.add_row(wanted == LogitsWanted::all    ? n
                    : wanted == LogitsWanted::last ? std::min<size_t>(n, 1)
                                                   : 0);
  }
  for (size_t r = 0; r < batch.rows.size(); ++r) {
    const size_t count = logits_.count(r);
    // The row's new tokens are its last columns (left padding) or its first (right padding).
    const size_t first_column = layout.padding == Padding::left ? static_cast<size_t>(columns) - count
                                                                : static_cast<size_t>(new_tokens[r]) - count;
    for (size_t k = 0; k < count; ++k) {
      const std::byte* from =
          logits_raw_.data() + ((r * static_cast<size_t>(columns)) + first_column + k) * vocab * element;
      auto to = logits_.mutable_at(r, k);
      if (layout.logits.type == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT) {
        std::memcpy(to.data(), from, vocab * sizeof(float));
      } else {
        const auto* half = reinterpret_cast<const Ort::Float16_t*>(from);
        for (size_t i = 0; i < vocab; ++i) to[i] = half[i].ToFloat();
      }
    }
  }
  return logits_;
}

}  // namespace ortlm::model
