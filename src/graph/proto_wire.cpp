#include "graph/proto_wire.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "ortlm/error.hpp"

namespace ortlm::graph::proto {

bool MessageReader::next() {
  if (pos_ >= data_.size()) return false;
  field_start_ = pos_;
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

VarintStatus decode_varint(std::string_view data, size_t& pos, uint64_t& value) {
  value = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= data.size()) return VarintStatus::truncated;
    const auto byte = static_cast<uint8_t>(data[pos++]);
    value |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return VarintStatus::ok;
  }
  return VarintStatus::too_long;
}

uint32_t load_fixed32(const char* bytes) {
  uint32_t bits = 0;
  std::memcpy(&bits, bytes, 4);
  return bits;
}

uint32_t MessageReader::fixed32() const { return load_fixed32(data_.data() + pos_ - 4); }

uint64_t MessageReader::varint() {
  uint64_t value = 0;
  switch (decode_varint(data_, pos_, value)) {
    case VarintStatus::ok:
      return value;
    case VarintStatus::truncated:
      fail("truncated varint");
    case VarintStatus::too_long:
      break;
  }
  fail("varint longer than 10 bytes");
}

void MessageReader::skip(size_t n) {
  if (n > data_.size() - pos_) fail("truncated fixed-size field");
  pos_ += n;
}

void MessageReader::fail(const std::string& what) const {
  throw Error(*file_ + ": not a valid ONNX model: " + what + " at byte " + std::to_string(base_ + pos_));
}

std::string_view first_bytes(MessageReader message, uint32_t field) {
  while (message.next())
    if (message.is(field, kLengthDelimited)) return message.bytes();
  return {};
}

void MessageWriter::varint(uint64_t value) {
  while (value >= 0x80) {
    out_.push_back(static_cast<char>((value & 0x7f) | 0x80));
    value >>= 7;
  }
  out_.push_back(static_cast<char>(value));
}

void MessageWriter::varint_field(uint32_t field, uint64_t value) {
  varint(uint64_t{field} << 3 | kVarint);
  varint(value);
}

void MessageWriter::bytes_header(uint32_t field, uint64_t length) {
  varint(uint64_t{field} << 3 | kLengthDelimited);
  varint(length);
}

void MessageWriter::bytes_field(uint32_t field, std::string_view bytes) {
  bytes_header(field, bytes.size());
  out_.append(bytes);
}

void MessageWriter::float_field(uint32_t field, float value) {
  varint(uint64_t{field} << 3 | kFixed32);
  char bytes[4];
  std::memcpy(bytes, &value, 4);
  out_.append(bytes, 4);
}

MappedFile::MappedFile(const std::filesystem::path& path) {
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
      data_ = nullptr;
      ::close(fd);
      throw Error(path.string() + ": cannot map: " + std::strerror(errno));
    }
  }
  ::close(fd);
}

MappedFile::~MappedFile() {
  if (data_) ::munmap(data_, size_);
}

}  // namespace ortlm::graph::proto
