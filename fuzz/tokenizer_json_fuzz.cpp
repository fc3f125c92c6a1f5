// libFuzzer target: arbitrary bytes as a whole tokenizer.json (what a downloaded model folder holds).
// Loading must succeed or throw ortlm::Error; a loaded tokenizer then encodes, decodes and streams a
// few short texts, again with nothing but ortlm::Error escaping. Run with memory limits so that a
// runaway allocation is a finding:
//
//   CC=clang CXX=clang++ cmake -S . -B build-fuzz -DORTLM_BUILD_FUZZERS=ON -DORTLM_BUILD_TESTS=OFF
//   cmake --build build-fuzz --target tokenizer_json_fuzz
//   cp -r fuzz/corpus/tokenizer_json_fuzz /tmp/corpus-tokjson
//   build-fuzz/fuzz/tokenizer_json_fuzz /tmp/corpus-tokjson -rss_limit_mb=2048 -malloc_limit_mb=1024
//   -timeout=10
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"

namespace {

// Short texts that reach every stage: letters, digits, spaces, punctuation, accents, CJK, emoji.
constexpr std::string_view kTexts[] = {"a", "Hello, world! 123", "  ab\tcd\n",
                                       "\xC3\xA9t\xC3\xA9 \xE4\xB8\xAD", "\xF0\x9F\x98\x80 [x] <s>"};

void exercise(const ortlm::Tokenizer& t) {
  for (std::string_view text : kTexts) {
    try {
      ortlm::Encoding e = t.encode(text, true);
      (void)t.decode(e.ids, false);
      (void)t.decode(e.ids, true);
      ortlm::StreamDecoder stream(t, false);
      std::string streamed;
      for (int32_t id : e.ids) stream.put(id, streamed);
      stream.finish(streamed);
    } catch (const ortlm::Error&) {
    }
  }
  try {
    (void)t.encode_pair("first", "second", true);
  } catch (const ortlm::Error&) {
  }
  // A few ids of the vocabulary, whatever they are.
  std::vector<int32_t> ids;
  for (int32_t id = 0; id < 16 && static_cast<size_t>(id) < t.vocab_size(); ++id) ids.push_back(id);
  try {
    (void)t.decode(ids, false);
  } catch (const ortlm::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view json(reinterpret_cast<const char*>(data), size);
  try {
    ortlm::Tokenizer t = ortlm::Tokenizer::from_json(json, "fuzz.json");
    exercise(t);
  } catch (const ortlm::Error&) {
  }
  return 0;
}
