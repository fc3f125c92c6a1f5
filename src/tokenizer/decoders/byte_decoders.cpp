// Decoders that turn tokens back into bytes: ByteLevel and ByteFallback.
#include "tokenizer/decoders/decoders.hpp"
#include "tokenizer/pre_tokenizers/pre_tokenizers.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

void ByteLevelDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  std::string bytes;
  std::string token_bytes;
  for (const std::string& token : tokens) {
    // A token with a character outside the byte alphabet is kept as its own UTF-8.
    token_bytes.clear();
    bool mapped = true;
    for (size_t pos = 0; pos < token.size();) {
      int b = byte_level_byte(utf8::decode(token, pos));
      if (b < 0) {
        mapped = false;
        break;
      }
      token_bytes.push_back(static_cast<char>(b));
    }
    bytes.append(mapped ? token_bytes : token);
  }
  tokens.assign(1, utf8::repair(bytes));
}

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
// The byte a "<0xXX>" token stands for, or -1.
int fallback_byte(const std::string& t) {
  if (t.size() != 6 || !t.starts_with("<0x") || t[5] != '>') return -1;
  int hi = hex_value(t[3]), lo = hex_value(t[4]);
  return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}
}  // namespace

void ByteFallbackDecoder::apply(std::vector<std::string>& tokens, const GrowthLimit&) const {
  std::vector<std::string> out;
  out.reserve(tokens.size());
  std::string run;
  auto flush = [&] {
    if (run.empty()) return;
    if (utf8::is_valid(run)) {
      out.push_back(run);
    } else {
      for (size_t i = 0; i < run.size(); ++i) out.emplace_back(utf8::kReplacementChar);
    }
    run.clear();
  };
  for (std::string& token : tokens) {
    int b = fallback_byte(token);
    if (b >= 0) {
      run.push_back(static_cast<char>(b));
      continue;
    }
    flush();
    out.push_back(std::move(token));
  }
  flush();
  tokens.swap(out);
}

}  // namespace ortlm::tok
