#pragma once
// An ONNX Runtime custom operator's input as ortlm's operators read it (model/paged_attention_op,
// model/silu_mul_op): data, element type and dims, read through the C API into a fixed array, because
// the C++ wrapper's GetShape() allocates a vector and these run per layer and decode step.
#include <onnxruntime_cxx_api.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ortlm::model {

struct TensorView {
  static constexpr size_t kMaxRank = 8;
  const void* data = nullptr;
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::array<int64_t, kMaxRank> dims{};
  size_t rank = 0;
  int64_t elements = 0;

  template <typename T>
  const T* as() const {
    return static_cast<const T*>(data);
  }
  int64_t last() const { return dims[rank - 1]; }
  bool same_shape(const TensorView& other) const {
    if (rank != other.rank) return false;
    for (size_t i = 0; i < rank; ++i)
      if (dims[i] != other.dims[i]) return false;
    return true;
  }
  std::string shape_text() const {
    std::string s = "[";
    for (size_t i = 0; i < rank; ++i) s += (i ? ", " : "") + std::to_string(dims[i]);
    return s + "]";
  }
};

// `value` (present) as a TensorView. Dims are read up to kMaxRank; a higher rank is reported in
// `rank` with `dims` unread, for the caller to refuse.
inline TensorView tensor_view(const Ort::ConstValue& value) {
  const OrtApi& api = Ort::GetApi();
  OrtTensorTypeAndShapeInfo* raw_info = nullptr;
  Ort::ThrowOnError(api.GetTensorTypeAndShape(value, &raw_info));
  const Ort::TensorTypeAndShapeInfo info(raw_info);
  TensorView t;
  t.rank = info.GetDimensionsCount();
  if (t.rank <= TensorView::kMaxRank) Ort::ThrowOnError(api.GetDimensions(info, t.dims.data(), t.rank));
  t.type = info.GetElementType();
  t.elements = static_cast<int64_t>(info.GetElementCount());
  t.data = value.GetTensorRawData();
  return t;
}

}  // namespace ortlm::model
