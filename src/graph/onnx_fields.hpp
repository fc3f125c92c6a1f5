#pragma once
// The field numbers and enum values of onnx.proto that ortlm reads or writes: one table for the
// graph decoder (which also fills the model's summary) and the writer.
#include <cstdint>

namespace ortlm::graph::onnx {

// ModelProto
constexpr uint32_t kModelIrVersion = 1, kModelProducerName = 2, kModelProducerVersion = 3, kModelGraph = 7,
                   kModelOpsetImport = 8;
// OperatorSetIdProto
constexpr uint32_t kOpsetDomain = 1, kOpsetVersion = 2;
// GraphProto
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5, kGraphInput = 11, kGraphOutput = 12,
                   kGraphValueInfo = 13;
// ValueInfoProto, TypeProto, TypeProto.Tensor, TensorShapeProto, TensorShapeProto.Dimension
constexpr uint32_t kValueInfoName = 1, kValueInfoType = 2;
constexpr uint32_t kTypeTensor = 1;
constexpr uint32_t kTensorTypeElemType = 1, kTensorTypeShape = 2;
constexpr uint32_t kShapeDim = 1;
constexpr uint32_t kDimValue = 1, kDimParam = 2;
// NodeProto
constexpr uint32_t kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttribute = 5,
                   kNodeDomain = 7;
// AttributeProto
constexpr uint32_t kAttrName = 1, kAttrF = 2, kAttrI = 3, kAttrT = 5, kAttrGraph = 6, kAttrFloats = 7,
                   kAttrInts = 8, kAttrGraphs = 11, kAttrType = 20;
// TensorProto
constexpr uint32_t kTensorDims = 1, kTensorDataType = 2, kTensorFloatData = 4, kTensorName = 8,
                   kTensorRawData = 9, kTensorExternalData = 13, kTensorDataLocation = 14;
// StringStringEntryProto
constexpr uint32_t kEntryKey = 1, kEntryValue = 2;

// AttributeProto.AttributeType
constexpr uint64_t kAttrTypeFloat = 1, kAttrTypeInt = 2, kAttrTypeFloats = 6, kAttrTypeInts = 7;
// TensorProto.DataType
constexpr uint64_t kFloat32 = 1, kUint8 = 2, kInt32 = 6, kInt64 = 7, kFloat16 = 10;
// TensorProto.DataLocation
constexpr uint64_t kLocationExternal = 1;

}  // namespace ortlm::graph::onnx
