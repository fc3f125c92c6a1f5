#include "model/io_layout.hpp"

#include <map>
#include <set>

#include "ortlm/error.hpp"

namespace ortlm::model {
namespace {

TensorSpec read_spec(const std::string& name, const Ort::TypeInfo& info) {
  TensorSpec spec;
  spec.name = name;
  if (info.GetONNXType() != ONNX_TYPE_TENSOR) return spec;  // type stays UNDEFINED
  const auto tensor = info.GetTensorTypeAndShapeInfo();
  spec.type = tensor.GetElementType();
  spec.shape = tensor.GetShape();
  const size_t rank = spec.shape.size();
  std::vector<const char*> dims(rank, nullptr);
  if (rank > 0) tensor.GetSymbolicDimensions(dims.data(), rank);
  for (const char* d : dims) spec.dim_names.emplace_back(d ? d : "");
  return spec;
}

std::vector<TensorSpec> read_specs(Ort::Session& session, bool inputs) {
  Ort::AllocatorWithDefaultOptions allocator;
  const size_t count = inputs ? session.GetInputCount() : session.GetOutputCount();
  std::vector<TensorSpec> specs;
  for (size_t i = 0; i < count; ++i) {
    auto name =
        inputs ? session.GetInputNameAllocated(i, allocator) : session.GetOutputNameAllocated(i, allocator);
    specs.push_back(
        read_spec(name.get(), inputs ? session.GetInputTypeInfo(i) : session.GetOutputTypeInfo(i)));
  }
  return specs;
}

bool is_integer_ids(ONNXTensorElementDataType t) {
  return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64 || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32;
}
bool is_float(ONNXTensorElementDataType t) {
  return t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT || t == ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16;
}

class LayoutBuilder {
 public:
  LayoutBuilder(Ort::Session& session, const IoNames& names, const ModelConfig& config,
                const std::string& file)
      : names_(names), config_(config), file_(file) {
    layout_.inputs = read_specs(session, true);
    layout_.outputs = read_specs(session, false);
    for (const auto& s : layout_.inputs) inputs_.emplace(s.name, &s);
    for (const auto& s : layout_.outputs) outputs_.emplace(s.name, &s);
  }

  IoLayout build() {
    layout_.input_ids = take_input(names_.input_ids, true);
    if (!is_integer_ids(layout_.input_ids.type))
      fail("input '" + layout_.input_ids.name + "' must be int32 or int64");
    layout_.attention_mask = optional_input(names_.attention_mask);
    layout_.position_ids = optional_input(names_.position_ids);
    layout_.use_cache_branch = optional_input("use_cache_branch");
    layout_.seqlens_k = optional_input("seqlens_k");
    layout_.total_sequence_length = optional_input("total_sequence_length");
    layout_.logits = take_output(names_.logits);
    if (!is_float(layout_.logits.type))
      fail("output '" + layout_.logits.name + "' must be float32 or float16");
    if (layout_.logits.shape.size() != 3)
      fail("output '" + layout_.logits.name + "' must have 3 dims [batch, seq, vocab]");
    layout_.vocab_size = layout_.logits.shape[2] > 0 ? layout_.logits.shape[2] : config_.vocab_size;
    detect_kv();
    refuse_unknown_inputs();
    const auto& ids_shape = layout_.input_ids.shape;
    if (ids_shape.size() != 2)
      fail("input '" + layout_.input_ids.name + "' must have 2 dims [batch, sequence]");
    layout_.batch_dynamic = ids_shape[0] < 0;
    layout_.sequence_dynamic = ids_shape[1] < 0;
    return std::move(layout_);
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { throw Error(file_ + ": " + what); }

  TensorSpec take_input(const std::string& name, bool required) {
    auto it = inputs_.find(name);
    if (it == inputs_.end()) {
      if (required) fail("the graph has no input '" + name + "' (inputs: " + list(layout_.inputs) + ")");
      return {};
    }
    used_.insert(name);
    return *it->second;
  }
  std::optional<TensorSpec> optional_input(const std::string& name) {
    if (!inputs_.count(name)) return std::nullopt;
    return take_input(name, true);
  }
  TensorSpec take_output(const std::string& name) {
    auto it = outputs_.find(name);
    if (it == outputs_.end())
      fail("the graph has no output '" + name + "' (outputs: " + list(layout_.outputs) + ")");
    return *it->second;
  }
  static std::string list(const std::vector<TensorSpec>& specs) {
    std::string out;
    for (const auto& s : specs) out += (out.empty() ? "" : ", ") + s.name;
    return out;
  }

  void detect_kv() {
    const bool combined = !names_.past_combined.empty() || inputs_.count(layer_name("past_%d", 0));
    layout_.kv_layout = combined ? KvLayout::combined : KvLayout::separate;
    const std::string past_key =
        combined ? (names_.past_combined.empty() ? "past_%d" : names_.past_combined) : names_.past_key;
    const std::string present_key =
        combined ? (names_.present_combined.empty() ? "present_%d" : names_.present_combined)
                 : names_.present_key;
    for (int layer = 0; inputs_.count(layer_name(past_key, layer)); ++layer) {
      KvTensors kv;
      kv.past_key = take_input(layer_name(past_key, layer), true).name;
      kv.present_key = take_output(layer_name(present_key, layer)).name;
      if (!combined) {
        kv.past_value = take_input(layer_name(names_.past_value, layer), true).name;
        kv.present_value = take_output(layer_name(names_.present_value, layer)).name;
      }
      layout_.kv.push_back(std::move(kv));
    }
    if (layout_.kv.empty())
      fail("no KV-cache inputs named like '" + past_key +
           "': ortlm needs a decoder exported with past key/values " +
           "(e.g. optimum's text-generation-with-past task)");
    if (config_.num_layers > 0 && static_cast<int>(layout_.kv.size()) != config_.num_layers)
      fail("the graph has " + std::to_string(layout_.kv.size()) + " KV layers but the config says " +
           std::to_string(config_.num_layers));
    const TensorSpec& past = *inputs_.at(layout_.kv[0].past_key);
    const size_t rank = combined ? 5 : 4;
    if (past.shape.size() != rank)
      fail("input '" + past.name + "' must have " + std::to_string(rank) + " dims, has " +
           std::to_string(past.shape.size()));
    if (!is_float(past.type)) fail("input '" + past.name + "' must be float32 or float16");
    layout_.kv_type = past.type;
    const size_t heads_axis = combined ? 2 : 1;
    layout_.kv_heads = past.shape[heads_axis] > 0 ? past.shape[heads_axis] : config_.num_kv_heads;
    layout_.head_size = past.shape[heads_axis + 2] > 0 ? past.shape[heads_axis + 2] : config_.head_size;
    if (layout_.kv_heads <= 0 || layout_.head_size <= 0)
      fail("cannot tell the KV heads / head size: '" + past.name +
           "' has symbolic dims and no config.json / genai_config.json gives them");
    layout_.description = combined ? "ONNX Runtime GenAI (combined KV [2, batch, heads, seq, head])"
                                   : (layout_.use_cache_branch ? "optimum merged decoder (use_cache_branch)"
                                                               : "optimum / transformers.js (separate KV)");
  }

  void refuse_unknown_inputs() const {
    for (const auto& s : layout_.inputs) {
      if (used_.count(s.name)) continue;
      fail("input '" + s.name + "' (" + element_type_name(s.type) +
           ") is not one ortlm knows how to feed (known: input_ids, attention_mask, position_ids, " +
           "past key/values, use_cache_branch, seqlens_k, total_sequence_length)");
    }
  }

  const IoNames& names_;
  const ModelConfig& config_;
  std::string file_;
  IoLayout layout_;
  std::map<std::string, const TensorSpec*> inputs_, outputs_;
  std::set<std::string> used_;
};

}  // namespace

IoLayout detect_io_layout(Ort::Session& session, const IoNames& names, const ModelConfig& config,
                          const std::string& model_file) {
  return LayoutBuilder(session, names, config, model_file).build();
}

const char* element_type_name(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
      return "float32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
      return "float16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
      return "bfloat16";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      return "float64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
      return "int64";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return "int32";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
      return "int8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return "uint8";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
      return "bool";
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING:
      return "string";
    default:
      return "other";
  }
}

size_t element_size(ONNXTensorElementDataType type) {
  switch (type) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32:
      return 4;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT16:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BFLOAT16:
      return 2;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE:
      return 8;
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT8:
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_UINT8:
      return 1;
    default:
      return 0;
  }
}

}  // namespace ortlm::model
