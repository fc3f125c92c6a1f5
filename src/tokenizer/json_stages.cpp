// tokenizer.json normalizer, pre_tokenizer, post_processor and decoder objects.
#include "tokenizer/json_stages.hpp"

#include "tokenizer/decoders/decoders.hpp"
#include "tokenizer/normalizers/normalizers.hpp"
#include "tokenizer/normalizers/precompiled.hpp"
#include "tokenizer/post_processors/post_processors.hpp"
#include "tokenizer/pre_tokenizers/pre_tokenizers.hpp"
#include "util/utf8.hpp"

namespace ortlm::tok {

namespace {

// Sequences nest no deeper than this: real files nest them one or two levels, and building,
// running and destroying the stages recurse once per level.
constexpr int kMaxSequenceDepth = 32;

// The stage with its origin set: "tokenizer.json: normalizer.normalizers[2] (Replace)".
template <class StagePtr>
StagePtr named(StagePtr stage, const JsonPath& at, std::string_view type) {
  if (stage) stage->set_origin(at.str() + " (" + std::string(type) + ")");
  return stage;
}

const json& get_array(const json& j, std::string_view key, const JsonPath& at) {
  const json* v = find_member(j, key);
  if (!v) (at / key).fail("missing");
  if (!v->is_array()) (at / key).fail(std::string("expected an array, found ") + v->type_name());
  return *v;
}

// The `key` list of a Sequence at nesting `depth` (0 for a top-level stage).
const json& sequence_list(const json& j, std::string_view key, const JsonPath& at, int depth,
                          std::string_view kind) {
  if (depth >= kMaxSequenceDepth) {
    at.fail(std::string(kind) + " Sequence nested deeper than " + std::to_string(kMaxSequenceDepth) +
            " levels");
  }
  return get_array(j, key, at);
}

char32_t get_char(const json& j, std::string_view key, const JsonPath& at, char32_t fallback) {
  const json* v = find_member(j, key);
  if (!v) return fallback;
  std::string s = as_string(*v, at / key);
  size_t pos = 0;
  char32_t cp = s.empty() || !utf8::is_valid(s) ? 0 : utf8::decode(s, pos);
  if (s.empty() || pos != s.size()) (at / key).fail("expected a single character, found \"" + s + "\"");
  return cp;
}

SplitBehavior get_behavior(const json& j, const JsonPath& at, SplitBehavior fallback) {
  const json* v = find_member(j, "behavior");
  if (!v) return fallback;
  std::string name = as_string(*v, at / "behavior");
  if (name == "Removed") return SplitBehavior::Removed;
  if (name == "Isolated") return SplitBehavior::Isolated;
  if (name == "MergedWithPrevious") return SplitBehavior::MergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::MergedWithNext;
  if (name == "Contiguous") return SplitBehavior::Contiguous;
  (at / "behavior").fail("unknown behavior \"" + name + "\"");
}

PrependScheme get_prepend_scheme(const json& j, const JsonPath& at) {
  const json* v = find_member(j, "prepend_scheme");
  if (!v) return get_bool_or(j, "add_prefix_space", at, true) ? PrependScheme::Always : PrependScheme::Never;
  std::string name = as_string(*v, at / "prepend_scheme");
  if (name == "always") return PrependScheme::Always;
  if (name == "first") return PrependScheme::First;
  if (name == "never") return PrependScheme::Never;
  (at / "prepend_scheme").fail("unknown prepend scheme \"" + name + "\"");
}

TemplatePiece special_piece(const json& pair, const JsonPath& at, const IdLimit& ids) {
  // Bert/Roberta processors name their tokens as ["[CLS]", 101].
  if (!pair.is_array() || pair.size() != 2) at.fail("expected [token, id]");
  TemplatePiece p;
  p.tokens.push_back(as_string(pair[0], at[0]));
  p.ids.push_back(ids.get(pair[1], at[1]));
  return p;
}

std::vector<TemplatePiece> template_pieces(const json& j, std::string_view key, const JsonPath& at,
                                           const json& special_tokens, const IdLimit& id_limit) {
  std::vector<TemplatePiece> pieces;
  const json* v = find_member(j, key);
  if (!v) return pieces;
  if (!v->is_array()) (at / key).fail("expected an array");
  for (size_t i = 0; i < v->size(); ++i) {
    auto piece_at = (at / key)[i];
    const json& item = (*v)[i];
    TemplatePiece p;
    if (const json* seq = find_member(item, "Sequence")) {
      p.is_sequence = true;
      std::string which = get_string(*seq, "id", piece_at / "Sequence");
      if (which != "A" && which != "B") (piece_at / "Sequence" / "id").fail("expected \"A\" or \"B\"");
      p.sequence = which == "A" ? 0 : 1;
      p.type_id = static_cast<uint32_t>(get_int_or(*seq, "type_id", piece_at / "Sequence", 0));
    } else if (const json* special = find_member(item, "SpecialToken")) {
      std::string name = get_string(*special, "id", piece_at / "SpecialToken");
      p.type_id = static_cast<uint32_t>(get_int_or(*special, "type_id", piece_at / "SpecialToken", 0));
      const json* def = find_member(special_tokens, name);
      auto def_at = at / "special_tokens" / name;
      if (!def) def_at.fail("missing (used by " + (piece_at).str() + ")");
      const json& ids = get_array(*def, "ids", def_at);
      for (size_t k = 0; k < ids.size(); ++k) p.ids.push_back(id_limit.get(ids[k], (def_at / "ids")[k]));
      const json& tokens = get_array(*def, "tokens", def_at);
      for (size_t k = 0; k < tokens.size(); ++k)
        p.tokens.push_back(as_string(tokens[k], (def_at / "tokens")[k]));
      if (p.tokens.size() != p.ids.size()) def_at.fail("\"ids\" and \"tokens\" differ in length");
    } else {
      piece_at.fail("expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    pieces.push_back(std::move(p));
  }
  return pieces;
}

std::unique_ptr<Normalizer> normalizer_at(const json& j, const JsonPath& at, int depth);
std::unique_ptr<PreTokenizer> pre_tokenizer_at(const json& j, const JsonPath& at, int depth);
std::unique_ptr<PostProcessor> post_processor_at(const json& j, const JsonPath& at, const IdLimit& ids,
                                                 int depth);
std::unique_ptr<Decoder> decoder_at(const json& j, const JsonPath& at, int depth);

std::unique_ptr<Normalizer> make_normalizer(const json& j, const JsonPath& at, const std::string& type,
                                            int depth) {
  if (type == "NFC") return std::make_unique<UnicodeNormalizer>(UnicodeForm::NFC);
  if (type == "NFD") return std::make_unique<UnicodeNormalizer>(UnicodeForm::NFD);
  if (type == "NFKC") return std::make_unique<UnicodeNormalizer>(UnicodeForm::NFKC);
  if (type == "NFKD") return std::make_unique<UnicodeNormalizer>(UnicodeForm::NFKD);
  if (type == "Lowercase") return std::make_unique<LowercaseNormalizer>();
  if (type == "StripAccents") return std::make_unique<StripAccentsNormalizer>();
  if (type == "Strip") {
    return std::make_unique<StripNormalizer>(get_bool_or(j, "strip_left", at, true),
                                             get_bool_or(j, "strip_right", at, true));
  }
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(get_string(j, "prepend", at));
  if (type == "Replace") {
    std::string literal;
    auto regex = get_pattern(j, at, literal);
    return std::make_unique<ReplaceNormalizer>(literal, std::move(regex), get_string(j, "content", at));
  }
  if (type == "BertNormalizer") {
    BertNormalizerOptions o;
    o.clean_text = get_bool_or(j, "clean_text", at, true);
    o.handle_chinese_chars = get_bool_or(j, "handle_chinese_chars", at, true);
    o.lowercase = get_bool_or(j, "lowercase", at, true);
    o.strip_accents = get_bool_or(j, "strip_accents", at, o.lowercase);  // null follows lowercase
    return std::make_unique<BertNormalizer>(o);
  }
  if (type == "Precompiled") {
    const json* map = find_member(j, "precompiled_charsmap");
    if (!map) return nullptr;  // an empty charsmap normalizes nothing
    return std::make_unique<PrecompiledNormalizer>(as_string(*map, at / "precompiled_charsmap"),
                                                   (at / "precompiled_charsmap").str());
  }
  if (type == "Nmt") return std::make_unique<NmtNormalizer>();
  if (type == "Sequence") {
    const json& list = sequence_list(j, "normalizers", at, depth, "normalizer");
    std::vector<std::unique_ptr<Normalizer>> stages;
    for (size_t i = 0; i < list.size(); ++i) {
      if (auto n = normalizer_at(list[i], (at / "normalizers")[i], depth + 1)) stages.push_back(std::move(n));
    }
    return std::make_unique<SequenceNormalizer>(std::move(stages));
  }
  unsupported_type(at, type);
}

std::unique_ptr<Normalizer> normalizer_at(const json& j, const JsonPath& at, int depth) {
  if (j.is_null()) return nullptr;
  std::string type = type_of(j, at);
  return named(make_normalizer(j, at, type, depth), at, type);
}

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const json& j, const JsonPath& at, const std::string& type,
                                                 int depth) {
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelPreTokenizer>(get_bool_or(j, "add_prefix_space", at, true),
                                                   get_bool_or(j, "use_regex", at, true));
  }
  if (type == "Split") {
    std::string literal;
    auto regex = get_pattern(j, at, literal);
    return std::make_unique<SplitPreTokenizer>(literal, std::move(regex),
                                               get_behavior(j, at, SplitBehavior::Removed),
                                               get_bool_or(j, "invert", at, false));
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspacePreTokenizer>(utf8::encode(get_char(j, "replacement", at, U'\u2581')),
                                                   get_prepend_scheme(j, at),
                                                   get_bool_or(j, "split", at, true));
  }
  if (type == "Whitespace") return std::make_unique<WhitespacePreTokenizer>();
  if (type == "WhitespaceSplit") return std::make_unique<WhitespaceSplitPreTokenizer>();
  if (type == "Digits")
    return std::make_unique<DigitsPreTokenizer>(get_bool_or(j, "individual_digits", at, false));
  if (type == "Punctuation") {
    return std::make_unique<PunctuationPreTokenizer>(get_behavior(j, at, SplitBehavior::Isolated));
  }
  if (type == "CharDelimiterSplit")
    return std::make_unique<CharDelimiterPreTokenizer>(get_char(j, "delimiter", at, 0));
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>();
  if (type == "Sequence") {
    const json& list = sequence_list(j, "pretokenizers", at, depth, "pre_tokenizer");
    std::vector<std::unique_ptr<PreTokenizer>> stages;
    for (size_t i = 0; i < list.size(); ++i) {
      if (auto p = pre_tokenizer_at(list[i], (at / "pretokenizers")[i], depth + 1))
        stages.push_back(std::move(p));
    }
    return std::make_unique<SequencePreTokenizer>(std::move(stages));
  }
  unsupported_type(at, type);
}

std::unique_ptr<PreTokenizer> pre_tokenizer_at(const json& j, const JsonPath& at, int depth) {
  if (j.is_null()) return nullptr;
  std::string type = type_of(j, at);
  return named(make_pre_tokenizer(j, at, type, depth), at, type);
}

std::unique_ptr<PostProcessor> post_processor_at(const json& j, const JsonPath& at, const IdLimit& ids,
                                                 int depth) {
  if (j.is_null()) return nullptr;
  std::string type = type_of(j, at);
  if (type == "TemplateProcessing") {
    static const json kNoSpecialTokens = json::object();
    const json* special = find_member(j, "special_tokens");
    const json& specials = special ? *special : kNoSpecialTokens;
    return std::make_unique<TemplateProcessor>(template_pieces(j, "single", at, specials, ids),
                                               template_pieces(j, "pair", at, specials, ids));
  }
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    const json* cls = find_member(j, "cls");
    const json* sep = find_member(j, "sep");
    if (!cls) (at / "cls").fail("missing");
    if (!sep) (at / "sep").fail("missing");
    bool roberta = type == "RobertaProcessing";
    return std::make_unique<ClsSepProcessor>(special_piece(*cls, at / "cls", ids),
                                             special_piece(*sep, at / "sep", ids), roberta,
                                             roberta && get_bool_or(j, "trim_offsets", at, true),
                                             roberta && get_bool_or(j, "add_prefix_space", at, true));
  }
  if (type == "ByteLevel") {
    return std::make_unique<ByteLevelProcessor>(get_bool_or(j, "trim_offsets", at, true),
                                                get_bool_or(j, "add_prefix_space", at, true));
  }
  if (type == "Sequence") {
    const json& list = sequence_list(j, "processors", at, depth, "post_processor");
    std::vector<std::unique_ptr<PostProcessor>> stages;
    for (size_t i = 0; i < list.size(); ++i) {
      if (auto p = post_processor_at(list[i], (at / "processors")[i], ids, depth + 1))
        stages.push_back(std::move(p));
    }
    return std::make_unique<SequenceProcessor>(std::move(stages));
  }
  unsupported_type(at, type);
}

std::unique_ptr<Decoder> make_decoder(const json& j, const JsonPath& at, const std::string& type, int depth) {
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") {
    int64_t start = get_int_or(j, "start", at, 0), stop = get_int_or(j, "stop", at, 0);
    if (start < 0 || stop < 0) at.fail("start and stop must not be negative");
    return std::make_unique<StripDecoder>(get_char(j, "content", at, ' '), static_cast<size_t>(start),
                                          static_cast<size_t>(stop));
  }
  if (type == "Replace") {
    std::string literal;
    auto regex = get_pattern(j, at, literal);
    return std::make_unique<ReplaceDecoder>(literal, std::move(regex), get_string(j, "content", at));
  }
  if (type == "Metaspace") {
    return std::make_unique<MetaspaceDecoder>(utf8::encode(get_char(j, "replacement", at, U'\u2581')),
                                              get_prepend_scheme(j, at) != PrependScheme::Never);
  }
  if (type == "WordPiece") {
    return std::make_unique<WordPieceDecoder>(get_string_or(j, "prefix", at, "##"),
                                              get_bool_or(j, "cleanup", at, true));
  }
  if (type == "CTC") {
    return std::make_unique<CtcDecoder>(get_string_or(j, "pad_token", at, "<pad>"),
                                        get_string_or(j, "word_delimiter_token", at, "|"),
                                        get_bool_or(j, "cleanup", at, true));
  }
  if (type == "BPEDecoder") return std::make_unique<BpeSuffixDecoder>(get_string_or(j, "suffix", at, "</w>"));
  if (type == "Sequence") {
    const json& list = sequence_list(j, "decoders", at, depth, "decoder");
    std::vector<std::unique_ptr<Decoder>> stages;
    for (size_t i = 0; i < list.size(); ++i) {
      if (auto d = decoder_at(list[i], (at / "decoders")[i], depth + 1)) stages.push_back(std::move(d));
    }
    return std::make_unique<SequenceDecoder>(std::move(stages));
  }
  unsupported_type(at, type);
}

std::unique_ptr<Decoder> decoder_at(const json& j, const JsonPath& at, int depth) {
  if (j.is_null()) return nullptr;
  std::string type = type_of(j, at);
  return named(make_decoder(j, at, type, depth), at, type);
}

}  // namespace

std::unique_ptr<Normalizer> build_normalizer(const json& j, const JsonPath& at) {
  return normalizer_at(j, at, 0);
}

std::unique_ptr<PreTokenizer> build_pre_tokenizer(const json& j, const JsonPath& at) {
  return pre_tokenizer_at(j, at, 0);
}

std::unique_ptr<PostProcessor> build_post_processor(const json& j, const JsonPath& at, const IdLimit& ids) {
  return post_processor_at(j, at, ids, 0);
}

std::unique_ptr<Decoder> build_decoder(const json& j, const JsonPath& at) { return decoder_at(j, at, 0); }

}  // namespace ortlm::tok
