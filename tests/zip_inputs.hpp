#pragma once
// Inputs and the model the LLMzip tests share.
#include <string>

#include "ortlm/llmzip.hpp"
#include "test_support.hpp"

namespace ortlm::test {

inline std::shared_ptr<Model> load_bundled_model(int threads) {
  SessionOptions options;
  options.intra_op_threads = threads;
  return Model::load(bundled_model(), options);
}

// The bundled model's codec, loaded with 1 or 2 ONNX Runtime threads (once per process).
inline const llmzip::Codec& codec(int threads = 1) {
  static llmzip::Codec one(load_bundled_model(1)), two(load_bundled_model(2));
  return threads == 1 ? one : two;
}

namespace zip_inputs {

inline std::string numbers_1_to_1000() {
  std::string s;
  for (int i = 1; i <= 1000; ++i) s += std::to_string(i) + "\n";
  return s;
}

inline const std::string kProse =
    "Once upon a time, there was a little dog named Max. Max liked to run in the park with his friend "
    "Lily. One day, they found a big red ball under a tree. \"Can we play with it?\" asked Lily. Max "
    "wagged his tail and barked. They played all day until the sun went down.\n\nThe next morning, "
    "Lily's mom made pancakes. Max sat by the table and waited. He was a good dog, and he got a small "
    "piece. Everyone was happy.\n";
inline const std::string kMultilingual =
    "Ελληνικά: Η γρήγορη καφέ αλεπού. Русский: Съешь же ещё этих мягких французских булок. 中文：我能吞下"
    "玻璃而不伤身体。 日本語：いろはにほへと。 العربية: أنا قادر على أكل الزجاج. हिन्दी: मैं काँच खा सकता हूँ।\n"
    "Français : « Ça, c'est l'été ! » — Deutsch: Größenwahn, Übermut. Türkçe: ığüşöç İĞÜŞÖÇ.\n";
inline const std::string kEmoji = std::string("Emoji: 😀🎉👍🏽 family ") +
                                  "👨‍👩‍👧‍👦" + " flags 🇫🇷🇯🇵 keycap 1️⃣" +
                                  " and text between 🙂 smiles.\n";
inline const std::string kInvalid =
    std::string("valid start \xff\xfe then a lone continuation \x80, overlong \xc0\xaf, ") +
    "surrogate \xed\xa0\x80, truncated \xe2\x82 and the end\xf0\x9f";
inline const std::string kNul = [] {
  static constexpr char bytes[] = "NUL\0bytes\0\0 inside text, Once upon a time\0";
  return std::string(bytes, sizeof bytes - 1);
}();

}  // namespace zip_inputs

}  // namespace ortlm::test
