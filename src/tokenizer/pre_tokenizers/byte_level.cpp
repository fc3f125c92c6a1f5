// ByteLevel pre-tokenizer (GPT-2): bytes become printable characters so that BPE never sees
// whitespace or control bytes.
#include <array>

#include "tokenizer/pre_tokenizers/pre_tokenizers.hpp"

namespace ortlm::tok {

namespace {

constexpr std::string_view kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Printable Latin-1 bytes stand for themselves; the others map to U+0100 onwards in byte order.
struct ByteAlphabet {
  std::array<std::string, 256> chars;
  std::array<int16_t, 512> bytes;  // code point -> byte, -1 when not in the alphabet
  ByteAlphabet() {
    bytes.fill(-1);
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      chars[static_cast<size_t>(b)] = utf8::encode(cp);
      bytes[cp] = static_cast<int16_t>(b);
    }
  }
};

const ByteAlphabet& alphabet() {
  static const ByteAlphabet instance;
  return instance;
}

}  // namespace

std::string_view byte_level_char(unsigned char byte) { return alphabet().chars[byte]; }

int byte_level_byte(char32_t cp) { return cp < 512 ? alphabet().bytes[cp] : -1; }

ByteLevelPreTokenizer::ByteLevelPreTokenizer(bool add_prefix_space, bool use_regex)
    : add_prefix_space_(add_prefix_space) {
  if (use_regex) regex_ = std::make_unique<Regex>(kGpt2Pattern, "ByteLevel");
}

void ByteLevelPreTokenizer::apply(PreTokenized& text) const {
  if (add_prefix_space_) {
    rewrite_splits(text, [](const NormalizedText& src, uint32_t b, uint32_t e, NormalizedText& out) {
      if (src.text[b] != ' ') out.append(" ", src.align[b]);
      out.append_from(src, b, e);
    });
  }
  if (regex_) {
    split_words(text, SplitBehavior::Isolated, false,
                [&](std::string_view word, std::vector<Segment>& matches) {
                  regex_->for_each_match(word, [&](size_t b, size_t e) {
                    matches.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e), true});
                  });
                });
  }
  const ByteAlphabet& table = alphabet();
  rewrite_splits(text, [&](const NormalizedText& src, uint32_t b, uint32_t e, NormalizedText& out) {
    for (uint32_t i = b; i < e; ++i)
      out.append(table.chars[static_cast<unsigned char>(src.text[i])], src.align[i]);
  });
}

}  // namespace ortlm::tok
