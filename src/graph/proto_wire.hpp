#pragma once
// The protobuf wire format, as much as ONNX files need: a zero-copy reader that names the file and
// byte offset of any defect, a writer that appends fields, and a read-only memory map.
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

namespace ortlm::graph::proto {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

enum class VarintStatus { ok, truncated, too_long };
// Decodes the varint at data[pos], advancing pos past it (also used for packed repeated fields).
VarintStatus decode_varint(std::string_view data, size_t& pos, uint64_t& value);
// A little-endian fixed32 field's bits (every platform ONNX Runtime supports is little-endian).
uint32_t load_fixed32(const char* bytes);

// One protobuf message: iterates over (field, wire type, value) without copying.
class MessageReader {
 public:
  MessageReader(std::string_view data, size_t base_offset, const std::string& file)
      : data_(data), base_(base_offset), file_(&file) {}

  // Advances to the next field; false at the end of the message. Throws ortlm::Error on bad bytes.
  bool next();

  uint32_t field() const { return field_; }
  uint32_t wire() const { return wire_; }
  bool is(uint32_t f, uint32_t wire) const { return field_ == f && wire_ == wire; }
  uint64_t value() const { return value_; }            // varint fields
  std::string_view bytes() const { return payload_; }  // length-delimited fields
  uint32_t fixed32() const;                            // fixed32 fields (floats)
  // The whole field as it is in the file (key and value), for copying it unchanged.
  std::string_view raw_field() const { return data_.substr(field_start_, pos_ - field_start_); }
  MessageReader sub() const { return MessageReader(payload_, base_ + payload_offset_, *file_); }

 private:
  uint64_t varint();
  void skip(size_t n);
  [[noreturn]] void fail(const std::string& what) const;

  std::string_view data_;
  size_t base_;
  const std::string* file_;
  size_t pos_ = 0, field_start_ = 0;
  uint32_t field_ = 0, wire_ = 0;
  uint64_t value_ = 0;
  std::string_view payload_;
  size_t payload_offset_ = 0;
};

// The first length-delimited field `field` of a message ("" when it has none).
std::string_view first_bytes(MessageReader message, uint32_t field);

// Appends fields to a message being built.
class MessageWriter {
 public:
  void varint_field(uint32_t field, uint64_t value);
  void bytes_field(uint32_t field, std::string_view bytes);
  // The key and length of a length-delimited field, whose `length` bytes the caller writes.
  void bytes_header(uint32_t field, uint64_t length);
  void float_field(uint32_t field, float value);
  void raw(std::string_view encoded_field) { out_.append(encoded_field); }
  const std::string& data() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void varint(uint64_t value);
  std::string out_;
};

// A read-only memory map that unmaps itself. Throws ortlm::Error naming the file.
class MappedFile {
 public:
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  std::string_view view() const { return {static_cast<const char*>(data_), size_}; }

 private:
  void* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace ortlm::graph::proto
