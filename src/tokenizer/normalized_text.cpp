#include "tokenizer/normalized_text.hpp"

#include "ortlm/error.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

void GrowthLimit::fail(std::string_view what, std::string_view origin) const {
  throw Error(std::string(origin) + ": " + std::string(what) + " grew the input from " +
              std::to_string(input_size) + " to more than " + std::to_string(max_size) +
              " bytes (the limit is " + std::to_string(kFactor) + " times the input + " +
              std::to_string(kSlack) + ")");
}

void NormalizedText::assign_original(std::string_view s, uint32_t base) {
  text.assign(s);
  align.resize(s.size());
  size_t pos = 0;
  while (pos < s.size()) {
    size_t n = utf8::sequence_length(static_cast<unsigned char>(s[pos]));
    if (pos + n > s.size()) n = s.size() - pos;
    Span span{static_cast<uint32_t>(base + pos), static_cast<uint32_t>(base + pos + n)};
    for (size_t i = 0; i < n; ++i) align[pos + i] = span;
    pos += n;
  }
}

}  // namespace ortlm::tok
