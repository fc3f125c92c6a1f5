#include "model/onnx_proto.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "ortlm/error.hpp"

namespace ortlm::model {
namespace {

// Field numbers from onnx.proto.
namespace field {
constexpr uint32_t kModelIrVersion = 1, kModelProducerName = 2, kModelProducerVersion = 3, kModelGraph = 7,
                   kModelOpsetImport = 8;
constexpr uint32_t kGraphNode = 1, kGraphInitializer = 5;
constexpr uint32_t kNodeOpType = 4, kNodeAttribute = 5, kNodeDomain = 7;
constexpr uint32_t kAttributeGraph = 6, kAttributeGraphs = 11;
constexpr uint32_t kTensorExternalData = 13;
constexpr uint32_t kEntryKey = 1, kEntryValue = 2;
constexpr uint32_t kOpsetDomain = 1, kOpsetVersion = 2;
}  // namespace field

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

// One protobuf message: iterates over (field, wire type, value) without copying.
class MessageReader {
 public:
  MessageReader(std::string_view data, size_t base_offset, const std::string& file)
      : data_(data), base_(base_offset), file_(file) {}

  bool next() {
    if (pos_ >= data_.size()) return false;
    const uint64_t key = varint();
    field_ = static_cast<uint32_t>(key >> 3);
    wire_ = static_cast<uint32_t>(key & 7);
    if (field_ == 0) fail("field number 0");
    switch (wire_) {
      case kVarint:
        value_ = varint();
        break;
      case kFixed64:
        skip(8);
        break;
      case kFixed32:
        skip(4);
        break;
      case kLengthDelimited: {
        const uint64_t len = varint();
        if (len > data_.size() - pos_)
          fail("length " + std::to_string(len) + " runs past the end (truncated file?)");
        payload_offset_ = pos_;
        payload_ = data_.substr(pos_, len);
        pos_ += len;
        break;
      }
      default:
        fail("invalid wire type " + std::to_string(wire_));
    }
    return true;
  }

  uint32_t field() const { return field_; }
  bool is(uint32_t f, uint32_t wire) const { return field_ == f && wire_ == wire; }
  uint64_t value() const { return value_; }
  std::string_view bytes() const { return payload_; }
  MessageReader sub() const { return MessageReader(payload_, base_ + payload_offset_, file_); }

 private:
  uint64_t varint() {
    uint64_t result = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) fail("truncated varint");
      const auto byte = static_cast<uint8_t>(data_[pos_++]);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return result;
    }
    fail("varint longer than 10 bytes");
  }
  void skip(size_t n) {
    if (n > data_.size() - pos_) fail("truncated fixed-size field");
    pos_ += n;
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw Error(file_ + ": not a valid ONNX model: " + what + " at byte " + std::to_string(base_ + pos_));
  }

  std::string_view data_;
  size_t base_;
  const std::string& file_;
  size_t pos_ = 0;
  uint32_t field_ = 0, wire_ = 0;
  uint64_t value_ = 0;
  std::string_view payload_;
  size_t payload_offset_ = 0;
};

void read_graph(MessageReader graph, OnnxSummary& out, int depth);

void read_external_data(MessageReader tensor, OnnxSummary& out) {
  while (tensor.next()) {
    if (!tensor.is(field::kTensorExternalData, kLengthDelimited)) continue;
    std::string_view key, value;
    for (auto entry = tensor.sub(); entry.next();) {
      if (entry.is(field::kEntryKey, kLengthDelimited)) key = entry.bytes();
      if (entry.is(field::kEntryValue, kLengthDelimited)) value = entry.bytes();
    }
    if (key == "location") out.external_data_files.emplace(value);
  }
}

void read_node(MessageReader node, OnnxSummary& out, int depth) {
  std::string_view op_type, domain;
  while (node.next()) {
    if (node.is(field::kNodeOpType, kLengthDelimited)) op_type = node.bytes();
    if (node.is(field::kNodeDomain, kLengthDelimited)) domain = node.bytes();
    if (node.is(field::kNodeAttribute, kLengthDelimited)) {
      for (auto attr = node.sub(); attr.next();) {
        if (attr.is(field::kAttributeGraph, kLengthDelimited) ||
            attr.is(field::kAttributeGraphs, kLengthDelimited))
          read_graph(attr.sub(), out, depth + 1);
      }
    }
  }
  std::string name = (domain.empty() || domain == "ai.onnx")
                         ? std::string(op_type)
                         : std::string(domain) + ":" + std::string(op_type);
  ++out.operators[name];
}

void read_graph(MessageReader graph, OnnxSummary& out, int depth) {
  if (depth > 64) throw Error("ONNX graph nesting deeper than 64 subgraphs");
  while (graph.next()) {
    if (graph.is(field::kGraphNode, kLengthDelimited)) read_node(graph.sub(), out, depth);
    if (graph.is(field::kGraphInitializer, kLengthDelimited)) {
      ++out.initializer_count;
      read_external_data(graph.sub(), out);
    }
  }
}

// A read-only memory map that unmaps itself.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY);
    if (fd < 0) throw Error(path.string() + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      throw Error(path.string() + ": not a regular file");
    }
    size_ = static_cast<size_t>(st.st_size);
    if (size_ > 0) {
      data_ = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (data_ == MAP_FAILED) {
        ::close(fd);
        throw Error(path.string() + ": cannot map: " + std::strerror(errno));
      }
    }
    ::close(fd);
  }
  ~MappedFile() {
    if (data_ && data_ != MAP_FAILED) ::munmap(data_, size_);
  }
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace

OnnxSummary read_onnx_summary(const std::filesystem::path& path) {
  const MappedFile file(path);
  const std::string name = path.string();
  if (file.view().empty()) throw Error(name + ": not a valid ONNX model: the file is empty");
  OnnxSummary out;
  bool has_graph = false;
  std::string producer_name, producer_version;
  for (MessageReader model(file.view(), 0, name); model.next();) {
    switch (model.field()) {
      case field::kModelIrVersion:
        out.ir_version = static_cast<int64_t>(model.value());
        break;
      case field::kModelProducerName:
        producer_name = model.bytes();
        break;
      case field::kModelProducerVersion:
        producer_version = model.bytes();
        break;
      case field::kModelGraph:
        has_graph = true;
        read_graph(model.sub(), out, 0);
        break;
      case field::kModelOpsetImport: {
        std::string domain;
        int64_t version = 0;
        for (auto opset = model.sub(); opset.next();) {
          if (opset.is(field::kOpsetDomain, kLengthDelimited)) domain = opset.bytes();
          if (opset.is(field::kOpsetVersion, kVarint)) version = static_cast<int64_t>(opset.value());
        }
        out.opsets[domain == "ai.onnx" ? "" : domain] = version;
        break;
      }
      default:
        break;
    }
  }
  if (out.ir_version <= 0 || !has_graph)
    throw Error(name + ": not a valid ONNX model: no " + (has_graph ? "ir_version" : "graph") + " field");
  out.producer = producer_name + (producer_version.empty() ? "" : " " + producer_version);
  return out;
}

}  // namespace ortlm::model
