#pragma once
// The loaded decoder graph: its ONNX Runtime session and I/O layout. Owned by Model and immutable
// after load; ONNX Runtime allows concurrent Run() calls on one session, so every engine (each with
// its own ModelRunner and KV cache) shares it.
#include <onnxruntime_cxx_api.h>

#include <cstdint>

#include "model/io_layout.hpp"

namespace ortlm::model {

struct Decoder {
  mutable Ort::Session session;  // Run() is thread-safe but not const in ONNX Runtime's C++ API
  IoLayout layout;
  int32_t context_length = 0;  // 0 = unknown (a bare .onnx without config; generation asks for it)
};

}  // namespace ortlm::model
