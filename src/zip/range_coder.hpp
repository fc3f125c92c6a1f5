#pragma once
// A byte-oriented range coder (LZMA's scheme widened to 64 bits): the interval [low, low + range)
// lives in 56 bits, renormalised a byte at a time when range drops below 2^48, with carry
// propagation through a cached byte and a count of pending 0xFF bytes (so no bits are lost to
// carry-less approximations). Symbols are coded with cumulative frequencies out of a fixed total of
// 2^total_bits (at most 2^32), so range / total keeps at least 16 bits of precision: the loss to
// truncation is under 2^-16 of a symbol's share. The decoder reads zeros past the end of its
// bytes, which lets the encoder end on the shortest value inside the final interval.
#include <cstdint>
#include <span>
#include <string>

namespace ortlm::zip {

inline constexpr int kValueBits = 56;
inline constexpr uint64_t kTop = uint64_t{1} << kValueBits;
inline constexpr uint64_t kBottom = uint64_t{1} << (kValueBits - 8);

class RangeEncoder {
 public:
  explicit RangeEncoder(int total_bits) : total_bits_(total_bits) {}
  // Codes the symbol whose share of the total is [cum, cum + freq); freq >= 1, cum + freq <= total.
  void encode(uint32_t cum, uint32_t freq) {
    const uint64_t r = range_ >> total_bits_;
    low_ += r * cum;
    range_ = r * freq;
    while (range_ < kBottom) {
      range_ <<= 8;
      shift_low();
    }
  }
  // Ends the stream and returns its bytes (the coder is spent afterwards).
  std::string finish();

 private:
  void shift_low();

  int total_bits_;
  uint64_t low_ = 0;
  uint64_t range_ = kTop - 1;
  uint8_t cache_ = 0;
  uint64_t cache_size_ = 1;  // the cached byte plus the 0xFF bytes waiting for a possible carry
  std::string out_;
};

class RangeDecoder {
 public:
  RangeDecoder(std::span<const uint8_t> bytes, int total_bits);
  // The cumulative-frequency slot of the next symbol, in [0, total); false when the bytes cannot
  // come from the encoder (a damaged stream).
  bool peek(uint32_t& slot) {
    r_ = range_ >> total_bits_;
    const uint64_t value = code_ / r_;
    if (value >> total_bits_) return false;
    slot = static_cast<uint32_t>(value);
    return true;
  }
  // Consumes the symbol peek() found inside [cum, cum + freq).
  void consume(uint32_t cum, uint32_t freq) {
    code_ -= r_ * cum;
    range_ = r_ * freq;
    while (range_ < kBottom) {
      range_ <<= 8;
      code_ = (code_ << 8) | next_byte();
    }
  }
  // Bytes read so far (zeros past the end included): after the last symbol this is the length of
  // the encoder's stream before its trailing zeros were dropped, never less than the bytes given.
  uint64_t bytes_read() const { return position_; }

 private:
  uint8_t next_byte() { return position_ < bytes_.size() ? bytes_[position_++] : (++position_, 0); }

  std::span<const uint8_t> bytes_;
  int total_bits_;
  uint64_t position_ = 0;
  uint64_t code_ = 0;
  uint64_t range_ = kTop - 1;
  uint64_t r_ = 0;
};

}  // namespace ortlm::zip
