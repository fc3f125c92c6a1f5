#pragma once
// What a decoder graph takes and gives: found from the session's inputs and outputs (and the name
// patterns a genai_config.json declares). Anything it cannot drive is refused by name.
#include <onnxruntime_cxx_api.h>

#include <optional>
#include <string>
#include <vector>

#include "graph/passes/attention_fusion.hpp"
#include "model/model_config.hpp"

namespace ortlm::model {

struct TensorSpec {
  std::string name;
  ONNXTensorElementDataType type = ONNX_TENSOR_ELEMENT_DATA_TYPE_UNDEFINED;
  std::vector<int64_t> shape;          // -1 where dynamic
  std::vector<std::string> dim_names;  // symbolic names ("" where static or unnamed)
};

enum class Padding { left, right };

enum class KvLayout {
  separate,  // key and value tensors per layer, [batch, kv_heads, seq, head_size]
  combined,  // one tensor per layer, [2, batch, kv_heads, seq, head_size] (GenAI GPT-2)
};

// One layer; for the combined layout only the *_key names are used.
using KvTensors = graph::KvTensors;

struct IoLayout {
  std::string description;  // e.g. "optimum (separate KV)", "ONNX Runtime GenAI (combined KV)"
  TensorSpec input_ids;
  TensorSpec logits;
  std::optional<TensorSpec> attention_mask;
  std::optional<TensorSpec> position_ids;
  std::optional<TensorSpec> use_cache_branch;  // merged decoders (optimum)
  std::optional<TensorSpec> seqlens_k;         // GroupQueryAttention inputs, when the graph exposes them
  std::optional<TensorSpec> total_sequence_length;
  KvLayout kv_layout = KvLayout::separate;
  std::vector<KvTensors> kv;  // one per layer
  ONNXTensorElementDataType kv_type = ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT;
  int64_t kv_heads = 0;
  int64_t head_size = 0;
  int64_t vocab_size = 0;  // logits' last dim when static
  bool batch_dynamic = true;
  bool sequence_dynamic = true;
  // Whether rows of different lengths can share a forward pass: needs a dynamic batch axis and an
  // attention_mask input. Set at load; `why_single_row` says why not.
  bool padded_batches = true;
  std::string why_single_row;
  // Where a row's padding goes. Attention in standard operators masks any key, so rows are
  // left-padded (their new tokens take a pass's last columns). GroupQueryAttention reads per-row
  // lengths (seqlens_k) instead of a mask and appends each row's new keys after its own length, so
  // its rows are right-padded: each row's tokens sit at the start, and prompts are prefilled in
  // one pass (a multi-token pass over a past must give every row the same number of tokens).
  Padding padding = Padding::left;
  std::vector<TensorSpec> inputs, outputs;  // all of them, in graph order, for `ortlm info`
};

// Throws ortlm::Error naming the model file and the input/output it cannot use.
IoLayout detect_io_layout(Ort::Session& session, const IoNames& names, const ModelConfig& config,
                          const std::string& model_file);

const char* element_type_name(ONNXTensorElementDataType type);
size_t element_size(ONNXTensorElementDataType type);

}  // namespace ortlm::model
