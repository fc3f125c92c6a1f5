#include "graph/external_data.hpp"

#include "graph/onnx_graph.hpp"
#include "ortlm/error.hpp"

namespace ortlm::graph {

// ONNX Runtime maps external data with the page size as its unit; aligned offsets let it use the
// mapped bytes in place.
constexpr uint64_t kAlignment = 4096;

ExternalDataWriter::ExternalDataWriter(const std::filesystem::path& file)
    : path_(file), location_(file.filename().string()), out_(file, std::ios::binary | std::ios::trunc) {
  if (!out_) throw Error(path_.string() + ": cannot create the file");
}

std::string ExternalDataWriter::add(const std::string& name, const std::vector<int64_t>& dims,
                                    uint64_t data_type, std::string_view raw) {
  const uint64_t padding = (kAlignment - offset_ % kAlignment) % kAlignment;
  static const std::string kZeros(kAlignment, '\0');
  out_.write(kZeros.data(), static_cast<std::streamsize>(padding));
  const uint64_t at = offset_ + padding;
  out_.write(raw.data(), static_cast<std::streamsize>(raw.size()));
  if (!out_) throw Error(path_.string() + ": cannot write the file (disk full?)");
  offset_ = at + raw.size();
  return encode_external_tensor(name, dims, data_type, location_, at, raw.size());
}

void ExternalDataWriter::finish() {
  out_.close();
  if (!out_) throw Error(path_.string() + ": cannot write the file (disk full?)");
}

}  // namespace ortlm::graph
