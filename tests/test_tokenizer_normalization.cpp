// Unicode normalizers' alignments: the original character range of every normalized character, as
// Hugging Face tokenizers 0.23 reports it (npm "tokenizers": NFC/NFD/NFKC/NFKD normalizer, a Split
// pre-tokenizer isolating every character, WordLevel model; offsets in characters). Covers
// decomposition expansions, canonical reordering with compositions ("Zalgo" text, where Hugging
// Face aligns positionally rather than with the absorbed character), Hangul and compatibility forms;
// the last four are random strings on which the earlier, per-source alignment differed.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tokenizer/json_stages.hpp"
#include "util/utf8.hpp"

namespace {

using nlohmann::json;

const char* const kCases = R"json(
[
{"form":"NFC","input":"xO\u0342\u030c\u030c\u0358\u0328\u0335\u0339\u033b\u031d\u0333 y","offsets":[[0,1],[1,2],[3,4],[4,5],[5,6],[6,7],[7,8],[8,9],[9,10],[10,11],[11,12],[12,13],[13,14]]},
{"form":"NFC","input":"a\u0328\u0301b","offsets":[[0,1],[2,3],[3,4]]},
{"form":"NFC","input":"e\u0301 e\u0327\u0301","offsets":[[0,1],[2,3],[3,4],[5,6]]},
{"form":"NFC","input":"\u1112\u1161\u11ab\u1100\u1173\u11af","offsets":[[0,1],[3,4]]},
{"form":"NFC","input":"\u0344x\u0f73","offsets":[[0,1],[0,1],[1,2],[2,3],[2,3]]},
{"form":"NFD","input":"caf\u00e9 \u00e9\u0327","offsets":[[0,1],[1,2],[2,3],[3,4],[3,4],[4,5],[5,6],[6,7],[6,7]]},
{"form":"NFD","input":"\ud55c\uad6d\uc5b4","offsets":[[0,1],[0,1],[0,1],[1,2],[1,2],[1,2],[2,3],[2,3]]},
{"form":"NFD","input":"\u1e69\u0323x\u01d5","offsets":[[0,1],[0,1],[1,2],[1,2],[2,3],[3,4],[3,4],[3,4]]},
{"form":"NFKC","input":"\ufb01 \uff76\uff9e \u2460 \u1e9b\u0323","offsets":[[0,1],[0,1],[1,2],[2,3],[4,5],[5,6],[6,7],[7,8]]},
{"form":"NFKD","input":"\ufb01 \uff76\uff9e \u338f \u01c4","offsets":[[0,1],[0,1],[1,2],[2,3],[3,4],[4,5],[5,6],[5,6],[6,7],[7,8],[7,8],[7,8]]},
{"form":"NFKC","input":"\u0301a\u0308\u0323","offsets":[[0,1],[1,2],[3,4]]},
{"form":"NFKD","input":"\u0958\uac00\u1e9b\u031b\u0343\u1b05","offsets":[[0,1],[0,1],[1,2],[1,2],[2,3],[3,4],[3,4],[4,5],[5,6]]},
{"form":"NFD","input":"\u0335\u0344\u1b05 \u1e9b\u1dce","offsets":[[0,1],[1,2],[1,2],[2,3],[3,4],[4,5],[5,6],[5,6]]},
{"form":"NFKC","input":"\u0f77A\u0f77\u3099","offsets":[[0,1],[0,1],[0,1],[1,2],[2,3],[3,4],[3,4],[3,4]]},
{"form":"NFC","input":"\u0958\u1dce\u00e9a\u0316\u0f74\u0344","offsets":[[0,1],[0,1],[1,2],[2,3],[3,4],[5,6],[6,7],[6,7]]}
]
)json";

TEST(TokenizerNormalization, OffsetsMatchTheReference) {
  const json cases = json::parse(kCases);
  for (const json& c : cases) {
    std::string input = c["input"].get<std::string>();
    SCOPED_TRACE(c["form"].get<std::string>() + " " + input);
    ortlm::tok::JsonPath at("test", "normalizer");
    auto normalizer = ortlm::tok::build_normalizer(json{{"type", c["form"]}}, at);
    ortlm::tok::NormalizedText text;
    text.assign_original(input, 0);
    normalizer->normalize(text);
    ASSERT_EQ(text.align.size(), text.text.size());
    // Original byte offset -> character index (the end of the input included).
    std::vector<size_t> char_at(input.size() + 1, 0);
    size_t chars = 0;
    for (size_t pos = 0; pos < input.size();) {
      size_t begin = pos;
      ortlm::utf8::decode(input, pos);
      for (size_t b = begin; b < pos; ++b) char_at[b] = chars;
      ++chars;
    }
    char_at[input.size()] = chars;
    std::vector<std::pair<size_t, size_t>> offsets;
    for (size_t pos = 0; pos < text.text.size();) {
      ortlm::tok::Span span = text.align[pos];
      offsets.emplace_back(char_at[span.begin], char_at[span.end]);
      ortlm::utf8::decode(text.text, pos);
    }
    EXPECT_EQ(offsets, (c["offsets"].get<std::vector<std::pair<size_t, size_t>>>()));
  }
}

}  // namespace
