#include "zip/range_coder.hpp"

namespace ortlm::zip {

void RangeEncoder::shift_low() {
  // The top byte of low can still change only through a carry; 0xFF bytes are held back until the
  // carry (bit 56 of low) is known, then written as cache + carry and 0xFF + carry.
  if ((low_ & (kTop - 1)) < (uint64_t{0xFF} << (kValueBits - 8)) || (low_ >> kValueBits) != 0) {
    const auto carry = static_cast<uint8_t>(low_ >> kValueBits);
    uint8_t byte = cache_;
    do {
      out_.push_back(static_cast<char>(static_cast<uint8_t>(byte + carry)));
      byte = 0xFF;
    } while (--cache_size_ != 0);
    cache_ = static_cast<uint8_t>(low_ >> (kValueBits - 8));
  }
  ++cache_size_;
  low_ = (low_ & (kBottom - 1)) << 8;
}

std::string RangeEncoder::finish() {
  // The value with the most trailing zero bits inside [low, low + range): its zero bytes need not
  // be stored (the decoder reads zeros past the end).
  const uint64_t high = low_ + range_;  // exclusive; < 2^57
  for (int bits = kValueBits; bits > 0; --bits) {
    const uint64_t mask = (uint64_t{1} << bits) - 1;
    const uint64_t value = (low_ + mask) & ~mask;
    if (value < high) {
      low_ = value;
      break;
    }
  }
  for (int i = 0; i < kValueBits / 8 + 1; ++i) shift_low();
  // The first byte is LZMA's leading zero (the value is below 1.0, so no carry ever reaches it).
  out_.erase(0, 1);
  while (!out_.empty() && out_.back() == 0) out_.pop_back();
  return std::move(out_);
}

RangeDecoder::RangeDecoder(std::span<const uint8_t> bytes, int total_bits)
    : bytes_(bytes), total_bits_(total_bits) {
  for (int i = 0; i < kValueBits / 8; ++i) code_ = (code_ << 8) | next_byte();
}

}  // namespace ortlm::zip
