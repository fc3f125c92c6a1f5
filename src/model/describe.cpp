// `ortlm info`: everything a user needs to know about a model before running it.
#include <iomanip>
#include <sstream>

#include "graph/onnx_summary.hpp"
#include "model/decoder.hpp"
#include "model/paged_session.hpp"
#include "ortlm/model.hpp"

namespace ortlm {
namespace fs = std::filesystem;

namespace {

std::string dims_text(const model::TensorSpec& spec) {
  std::string out = "[";
  for (size_t i = 0; i < spec.shape.size(); ++i) {
    if (i) out += ", ";
    if (spec.shape[i] >= 0)
      out += std::to_string(spec.shape[i]);
    else
      out += spec.dim_names[i].empty() ? "?" : spec.dim_names[i];
  }
  return out + "]";
}

std::string size_text(uintmax_t bytes) {
  std::ostringstream out;
  if (bytes >= (1u << 20))
    out << std::fixed << std::setprecision(1) << bytes / 1048576.0 << " MiB";
  else if (bytes >= 1024)
    out << std::fixed << std::setprecision(1) << bytes / 1024.0 << " KiB";
  else
    out << bytes << " B";
  return out.str();
}

void list_tensors(std::ostringstream& out, const char* title, const std::vector<model::TensorSpec>& specs) {
  out << title << " (" << specs.size() << "):\n";
  for (const auto& s : specs)
    out << "  " << std::left << std::setw(28) << s.name << " " << std::setw(8)
        << model::element_type_name(s.type) << " " << dims_text(s) << "\n";
}

}  // namespace

std::string Model::describe() const {
  const auto& layout = decoder().layout;  // the rewrites made: their notes are printed
  const auto& summary = *summary_;
  std::ostringstream out;
  out << "model:         " << onnx_path_.string() << "\n";
  out << "layout:        " << layout.description << "\n";
  out << "type:          " << (config_.model_type.empty() ? "?" : config_.model_type) << "\n";
  out << "layers:        " << config_.num_layers << "\n";
  out << "kv heads:      " << config_.num_kv_heads << "\n";
  out << "head size:     " << config_.head_size << "\n";
  out << "kv dtype:      " << model::element_type_name(layout.kv_type) << "\n";
  out << "vocabulary:    " << config_.vocab_size << "\n";
  if (config_.context_length > 0)
    out << "context:       " << config_.context_length << "\n";
  else
    out << "context:       unknown (no config file states it; give --context N to generate)\n";
  out << "batch axis:    " << (layout.batch_dynamic ? "dynamic" : "static") << "\n";
  out << "sequence axis: " << (layout.sequence_dynamic ? "dynamic" : "static") << "\n";
  out << "batching:      "
      << (!layout.padded_batches ? "one row per pass: " + layout.why_single_row
          : layout.padding == model::Padding::left
              ? "rows of different lengths share a pass (left padding)"
              : "rows of different lengths share a pass (right padding: GroupQueryAttention)")
      << "\n";
  auto id_text = [](const std::optional<int32_t>& id) { return id ? std::to_string(*id) : std::string("-"); };
  out << "bos / pad:     " << id_text(config_.bos_token_id) << " / " << id_text(config_.pad_token_id) << "\n";
  out << "eos:           ";
  for (size_t i = 0; i < config_.eos_token_ids.size(); ++i)
    out << (i ? ", " : "") << config_.eos_token_ids[i];
  out << (config_.eos_token_ids.empty() ? "-\n" : "\n");
  out << "tokenizer:     "
      << (tokenizer_ ? "yes (" + std::to_string(tokenizer_->vocab_size()) + " tokens)" : "none") << "\n";
  out << "producer:      " << (summary.producer.empty() ? "?" : summary.producer) << ", IR version "
      << summary.ir_version << "\n";
  out << "opsets:        ";
  bool first = true;
  for (const auto& [domain, version] : summary.opsets) {
    out << (first ? "" : ", ") << (domain.empty() ? "ai.onnx" : domain) << " " << version;
    first = false;
  }
  out << "\noperators:    ";
  first = true;
  for (const auto& [op, count] : summary.operators) {
    out << (first ? "" : ", ") << op << " x" << count;
    first = false;
  }
  out << "\n";
  if (!summary.quantization.empty()) {
    out << "quantized:     ";
    first = true;
    for (const auto& [what, count] : summary.quantization) {
      out << (first ? "" : "; ") << what << " x" << count;
      first = false;
    }
    out << "\n";
  }
  out << "attention:     " << attention_fusion_note_ << "\n";
  out << "lm head:       " << lm_head_note_ << "\n";
  out << "norms:         " << norms_note_ << "\n";
  out << "mlp:           " << mlp_note_ << "\n";
  out << "matmuls:       " << matmul_note_ << "\n";
  if (paged_) out << "paged kv:      " << paged_->note << "\n";  // once checked (paged_session())
  list_tensors(out, "inputs", layout.inputs);
  list_tensors(out, "outputs", layout.outputs);
  out << "files:\n";
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder_))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    out << "  " << std::left << std::setw(40) << fs::relative(f, folder_).string() << " "
        << size_text(fs::file_size(f)) << "\n";
  return out.str();
}

}  // namespace ortlm
