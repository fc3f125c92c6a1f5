// libFuzzer target: encode / decode / stream on arbitrary bytes with the stories260k
// (SentencePiece-style BPE, byte fallback) and GPT-2 (byte-level BPE) tokenizers, and tokenizer.json
// loading on arbitrary documents. Bad input must give ortlm::Error, never a crash or a hang, and
// valid text must survive encode + decode where the tokenizer is lossless.
//
//   cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DORTLM_BUILD_FUZZERS=ON
//   cmake --build build-fuzz --target tokenizer_fuzz && build-fuzz/fuzz/tokenizer_fuzz -max_total_time=120
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"
#include "util/utf8.hpp"

namespace {

const ortlm::Tokenizer& stories() {
  static const ortlm::Tokenizer t = ortlm::Tokenizer::from_path(ORTLM_SOURCE_DIR "/models/stories260k");
  return t;
}

const ortlm::Tokenizer& gpt2() {
  static const ortlm::Tokenizer t =
      ortlm::Tokenizer::from_path(ORTLM_SHARED_DIR "/models/tiny-random-gpt2-fp32");
  return t;
}

// Every normalizer and most pre-tokenizers in one pipeline, over a Unigram model with byte fallback.
const ortlm::Tokenizer& many_stages() {
  static const ortlm::Tokenizer t = ortlm::Tokenizer::from_json(R"({
    "normalizer": {"type": "Sequence", "normalizers": [
      {"type": "NFKC"}, {"type": "NFD"}, {"type": "StripAccents"}, {"type": "NFC"}, {"type": "Lowercase"},
      {"type": "BertNormalizer"}, {"type": "Strip"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "},
      {"type": "Nmt"}, {"type": "Prepend", "prepend": "_"}]},
    "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
      {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": true},
      {"type": "Punctuation"}, {"type": "Digits", "individual_digits": true}, {"type": "Whitespace"},
      {"type": "Split", "pattern": {"Regex": "\\p{L}{1,3}"}, "behavior": "MergedWithNext", "invert": false}]},
    "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": true,
              "vocab": [["<unk>", 0], ["▁", -1], ["a", -2], ["ab", -2.5], ["<0x41>", -5], ["<0xC3>", -5]]},
    "decoder": {"type": "Sequence", "decoders": [{"type": "Metaspace"}, {"type": "ByteFallback"}, {"type": "Fuse"}]},
    "added_tokens": [{"id": 6, "content": "[x]", "lstrip": true, "rstrip": true, "normalized": true, "special": true},
                     {"id": 7, "content": "ab", "single_word": true, "normalized": false, "special": false}]})");
  return t;
}

[[noreturn]] void fail(const char* what, std::string_view text) {
  std::fprintf(stderr, "tokenizer_fuzz: %s for input of %zu bytes\n", what, text.size());
  std::abort();
}

// SentencePiece text survives unless it holds the meta-space character or an added token's text.
bool stories_lossless(std::string_view text) {
  for (std::string_view s : {"\u2581", "<s>", "</s>", "<unk>"}) {
    if (text.find(s) != std::string_view::npos) return false;
  }
  return true;
}

void check_text(const ortlm::Tokenizer& t, std::string_view text, bool lossless) {
  bool valid = ortlm::utf8::is_valid(text);
  std::vector<int32_t> ids;
  try {
    ids = t.encode_ids(text, false);
  } catch (const ortlm::Error&) {
    if (valid) fail("encode threw on valid UTF-8", text);
    return;
  }
  if (!valid) fail("encode accepted invalid UTF-8", text);
  ortlm::Encoding e = t.encode(text, true);
  if (e.ids.size() != e.tokens.size() || e.ids.size() != e.offsets.size()) fail("ragged Encoding", text);
  for (auto [b, end] : e.offsets) {
    if (b > end || end > text.size()) fail("offset outside the input", text);
  }
  std::string decoded = t.decode(ids);
  if (lossless && decoded != text) fail("decode(encode(x)) != x", text);

  // Streaming gives valid UTF-8 that adds up to the full decode.
  ortlm::StreamDecoder stream(t, false);
  std::string streamed;
  for (int32_t id : ids) stream.put(id, streamed);
  stream.finish(streamed);
  if (!ortlm::utf8::is_valid(streamed)) fail("stream emitted invalid UTF-8", text);
  if (lossless && streamed != decoded) fail("stream != decode", text);
}

void check_ids(const ortlm::Tokenizer& t, const uint8_t* data, size_t size) {
  if (size == 0) return;
  std::vector<int32_t> ids;
  for (size_t i = 0; i + 1 < size; i += 2) {
    ids.push_back(static_cast<int32_t>((data[i] | (data[i + 1] << 8)) % (t.vocab_size() + 8)));
  }
  try {
    std::string text = t.decode(ids, data[0] & 1);
    if (!ortlm::utf8::is_valid(text)) fail("decode gave invalid UTF-8", {});
  } catch (const ortlm::Error&) {
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      check_text(stories(), text, stories_lossless(text));
      break;
    case 1:
      check_text(gpt2(), text, true);
      break;
    case 2:
      check_ids(stories(), data + 1, size - 1);
      break;
    case 3:
      check_ids(gpt2(), data + 1, size - 1);
      break;
    case 4:
      check_text(many_stages(), text, false);
      break;
    default:
      try {
        ortlm::Tokenizer t = ortlm::Tokenizer::from_json(text, "fuzz.json");
        (void)t.encode_ids("fuzz a small text: 123 ünï", true);
      } catch (const ortlm::Error&) {
      }
      break;
  }
  return 0;
}
