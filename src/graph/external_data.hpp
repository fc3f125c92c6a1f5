#pragma once
// Writing initializers into an external data file as they are made, so that a model of any size is
// written with no more memory than its largest tensor: each tensor's bytes go to the file at once,
// and the graph keeps only the small TensorProto that refers to them.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace ortlm::graph {

class ExternalDataWriter {
 public:
  // Creates (truncates) `file`; tensors refer to it by its file name, so the model file written
  // with them must be in the same folder. Throws ortlm::Error naming the file.
  explicit ExternalDataWriter(const std::filesystem::path& file);
  // Appends `raw` (aligned for mapping) and returns the initializer that refers to it.
  std::string add(const std::string& name, const std::vector<int64_t>& dims, uint64_t data_type,
                  std::string_view raw);
  // Flushes and closes the file; throws ortlm::Error when a write failed.
  void finish();
  uint64_t bytes_written() const { return offset_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  std::string location_;
  std::ofstream out_;
  uint64_t offset_ = 0;
};

}  // namespace ortlm::graph
