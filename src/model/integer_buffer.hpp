#pragma once
// Integer graph inputs (ids, positions, masks, lengths) are int64 or int32 as the graph declares
// them; one reusable int64 buffer holds either.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <vector>

namespace ortlm::model {

// Writes `count` integers value_at(0..count) into `buffer` as the graph's type (int64, or int32
// packed in its storage), growing it only when it is too small.
inline void fill_integers(std::vector<int64_t>& buffer, ONNXTensorElementDataType type, size_t count,
                          auto&& value_at) {
  if (buffer.size() < count) buffer.resize(count);
  if (type == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64) {
    for (size_t i = 0; i < count; ++i) buffer[i] = value_at(i);
  } else {
    auto* narrow = reinterpret_cast<int32_t*>(buffer.data());
    for (size_t i = 0; i < count; ++i) narrow[i] = static_cast<int32_t>(value_at(i));
  }
}

}  // namespace ortlm::model
