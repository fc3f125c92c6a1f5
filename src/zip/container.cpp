#include "zip/container.hpp"

#include <algorithm>
#include <cstring>

#include "ortlm/error.hpp"
#include "zip/checksum.hpp"
#include "zip/frequencies.hpp"

namespace ortlm::zip {

namespace {

// Little-endian fixed-width integers, LEB128 varints and length-prefixed strings.
class Writer {
 public:
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void fixed(uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void varint(uint64_t v) {
    while (v >= 0x80) {
      u8(static_cast<uint8_t>(v | 0x80));
      v >>= 7;
    }
    u8(static_cast<uint8_t>(v));
  }
  void bytes(const void* data, size_t n) { out_.append(static_cast<const char*>(data), n); }
  void text(const std::string& s) {
    varint(s.size());
    out_ += s;
  }
  std::string& out() { return out_; }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  size_t position() const { return position_; }
  size_t left() const { return bytes_.size() - position_; }
  void need(size_t n, const char* field) const {
    if (left() < n)
      throw Error("LLMzip archive: truncated at byte " + std::to_string(position_) + " (reading " + field +
                  ": " + std::to_string(n) + " bytes needed, " + std::to_string(left()) + " left)");
  }
  uint64_t fixed(int n, const char* field) {
    need(static_cast<size_t>(n), field);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= uint64_t{static_cast<uint8_t>(bytes_[position_ + i])} << (8 * i);
    position_ += static_cast<size_t>(n);
    return v;
  }
  uint64_t varint(const char* field) {
    const size_t start = position_;
    uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
      need(1, field);
      const auto b = static_cast<uint8_t>(bytes_[position_++]);
      if (shift == 63 && b > 1)
        throw Error("LLMzip archive: " + std::string(field) + " at byte " + std::to_string(start) +
                    " overflows 64 bits");
      v |= uint64_t{b & 0x7Fu} << shift;
      if (!(b & 0x80)) return v;
    }
  }
  std::string_view take(size_t n, const char* field) {
    need(n, field);
    const auto view = bytes_.substr(position_, n);
    position_ += n;
    return view;
  }
  std::string text(const char* field) {
    const uint64_t n = varint(field);
    if (n > 4096)
      throw Error("LLMzip archive: " + std::string(field) + " is " + std::to_string(n) +
                  " bytes long (at most 4096)");
    return std::string(take(static_cast<size_t>(n), field));
  }

 private:
  std::string_view bytes_;
  size_t position_ = 0;
};

std::string chunk_name(size_t i, const std::vector<ChunkEntry>& chunks) {
  return "chunk " + std::to_string(i) + " of " + std::to_string(chunks.size());
}

}  // namespace

std::string write_archive(const ArchiveHeader& header, std::span<const std::string> payloads) {
  Writer w;
  const Numerics& n = header.numerics;
  w.bytes(kMagic, sizeof kMagic);
  w.fixed(kFormatVersion, 2);
  w.fixed(0, 2);  // flags: none defined
  w.bytes(n.model_sha256.data(), n.model_sha256.size());
  w.bytes(n.tokenizer_sha256.data(), n.tokenizer_sha256.size());
  w.fixed(n.vocab, 4);
  w.fixed(n.context, 4);
  w.fixed(static_cast<uint32_t>(n.start_token), 4);
  w.fixed(header.rows_per_pass, 4);
  w.fixed(header.total_bits, 1);
  w.fixed(header.original_bytes, 8);
  w.fixed(header.original_checksum, 8);
  w.text(n.model_name);
  w.text(n.ort_version);
  w.text(n.attention);
  w.text(n.provider);
  w.text(n.cpu);
  w.varint(header.chunks.size());
  w.fixed(checksum64(w.out()), 8);
  const size_t table_start = w.out().size();
  for (const ChunkEntry& c : header.chunks) {
    w.u8(static_cast<uint8_t>(c.kind));
    w.varint(c.bytes);
    if (c.kind == ChunkKind::model) {
      w.varint(c.tokens);
      w.varint(c.payload_bytes);
    }
    w.fixed(c.checksum, 4);
  }
  w.fixed(checksum64(std::string_view(w.out()).substr(table_start)), 8);
  for (const std::string& p : payloads) w.out() += p;
  return std::move(w.out());
}

Archive read_archive(std::string_view bytes) {
  Reader r(bytes);
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    throw Error("not an LLMzip archive (it does not start with \"ORTLMZIP\")");
  r.take(sizeof kMagic, "magic");
  const auto version = r.fixed(2, "version");
  if (version != kFormatVersion)
    throw Error("LLMzip archive: format version " + std::to_string(version) + ", this ortlm reads version " +
                std::to_string(kFormatVersion));
  const auto flags = r.fixed(2, "flags");
  if (flags != 0) throw Error("LLMzip archive: unknown flags " + std::to_string(flags) + " (byte 10)");
  Archive a;
  ArchiveHeader& h = a.header;
  Numerics& n = h.numerics;
  std::memcpy(n.model_sha256.data(), r.take(32, "model SHA-256").data(), 32);
  std::memcpy(n.tokenizer_sha256.data(), r.take(32, "tokenizer SHA-256").data(), 32);
  n.vocab = static_cast<uint32_t>(r.fixed(4, "vocab"));
  n.context = static_cast<uint32_t>(r.fixed(4, "context length"));
  n.start_token = static_cast<int32_t>(static_cast<uint32_t>(r.fixed(4, "start token")));
  h.rows_per_pass = static_cast<uint32_t>(r.fixed(4, "rows per pass"));
  h.total_bits = static_cast<uint32_t>(r.fixed(1, "frequency total"));
  h.original_bytes = r.fixed(8, "original length");
  h.original_checksum = r.fixed(8, "original checksum");
  n.model_name = r.text("model name");
  n.ort_version = r.text("ONNX Runtime version");
  n.attention = r.text("attention");
  n.provider = r.text("provider");
  n.cpu = r.text("CPU features");
  const uint64_t count = r.varint("chunk count");
  const size_t header_end = r.position();
  if (checksum64(bytes.substr(0, header_end)) != r.fixed(8, "header checksum"))
    throw Error("LLMzip archive: the header (bytes 0-" + std::to_string(header_end) +
                ") is damaged: its checksum does not match");
  if (h.total_bits != kTotalBits)
    throw Error("LLMzip archive: frequency total 2^" + std::to_string(h.total_bits) +
                ", this ortlm codes 2^" + std::to_string(kTotalBits));
  if (h.rows_per_pass < 1 || h.rows_per_pass > 1024)
    throw Error("LLMzip archive: rows per pass " + std::to_string(h.rows_per_pass) + " is outside [1, 1024]");
  // Every table entry takes at least 6 bytes: a count beyond what is left cannot be true.
  if (count > r.left() / 6)
    throw Error("LLMzip archive: " + std::to_string(count) + " chunks cannot fit in the " +
                std::to_string(r.left()) + " bytes left");
  const size_t table_start = r.position();
  a.header_bytes = table_start;
  h.chunks.resize(static_cast<size_t>(count));
  for (size_t i = 0; i < h.chunks.size(); ++i) {
    ChunkEntry& c = h.chunks[i];
    const auto kind = r.fixed(1, "chunk kind");
    if (kind > 1)
      throw Error("LLMzip archive: " + chunk_name(i, h.chunks) + " has unknown kind " + std::to_string(kind));
    c.kind = static_cast<ChunkKind>(kind);
    c.bytes = r.varint("chunk length");
    if (c.kind == ChunkKind::model) {
      const uint64_t tokens = r.varint("chunk tokens");
      if (tokens < 1 || tokens > n.context)
        throw Error("LLMzip archive: " + chunk_name(i, h.chunks) + " has " + std::to_string(tokens) +
                    " tokens, outside [1, the context length " + std::to_string(n.context) + "]");
      c.tokens = static_cast<uint32_t>(tokens);
      c.payload_bytes = r.varint("chunk payload length");
    } else {
      c.payload_bytes = c.bytes;
    }
    c.checksum = static_cast<uint32_t>(r.fixed(4, "chunk checksum"));
  }
  const size_t table_end = r.position();
  if (checksum64(bytes.substr(table_start, table_end - table_start)) != r.fixed(8, "table checksum"))
    throw Error("LLMzip archive: the chunk table (bytes " + std::to_string(table_start) + "-" +
                std::to_string(table_end) + ") is damaged: its checksum does not match");
  a.overhead_bytes = r.position();
  uint64_t total = 0;
  for (size_t i = 0; i < h.chunks.size(); ++i) {
    const ChunkEntry& c = h.chunks[i];
    if (c.bytes == 0 || c.bytes > h.original_bytes - total)
      throw Error("LLMzip archive: " + chunk_name(i, h.chunks) + " claims " + std::to_string(c.bytes) +
                  " bytes, beyond the original length " + std::to_string(h.original_bytes));
    total += c.bytes;
    if (c.payload_bytes > r.left())
      throw Error("LLMzip archive: truncated: " + chunk_name(i, h.chunks) + " needs " +
                  std::to_string(c.payload_bytes) + " bytes at byte " + std::to_string(r.position()) + ", " +
                  std::to_string(r.left()) + " left");
    a.payloads.push_back(r.take(static_cast<size_t>(c.payload_bytes), "chunk payload"));
  }
  if (total != h.original_bytes)
    throw Error("LLMzip archive: the chunks hold " + std::to_string(total) + " bytes, the header says " +
                std::to_string(h.original_bytes));
  if (r.left() != 0)
    throw Error("LLMzip archive: " + std::to_string(r.left()) + " bytes after the last chunk (at byte " +
                std::to_string(r.position()) + ")");
  return a;
}

}  // namespace ortlm::zip
