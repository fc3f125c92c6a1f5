// Loading a tokenizer: tokenizer.json (all pipeline stages and the model) or a legacy GPT-2 style
// folder with vocab.json + merges.txt.
#include <algorithm>
#include <unordered_map>

#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"
#include "tokenizer/json_document.hpp"
#include "tokenizer/json_stages.hpp"
#include "tokenizer/models/bpe.hpp"
#include "tokenizer/models/unigram.hpp"
#include "tokenizer/models/word_level.hpp"
#include "tokenizer/models/wordpiece.hpp"
#include "tokenizer/tokenizer_impl.hpp"
#include "util/file.hpp"

namespace ortlm {

namespace tok {

namespace {

Vocab read_vocab(const json& j, const JsonPath& at, ModelTables& tables, const IdLimit& ids) {
  Vocab vocab;
  if (tables.has_vocab) {
    vocab.reserve(tables.vocab.size());
    for (const auto& [token, id] : tables.vocab) {
      if (id >= ids.bound()) ids.check(id, at / "vocab" / token);
      vocab.add(token, id);
    }
    return vocab;
  }
  const json* v = find_member(j, "vocab");
  if (!v) (at / "vocab").fail("missing");
  if (!v->is_object()) (at / "vocab").fail(std::string("expected an object, found ") + v->type_name());
  vocab.reserve(v->size());
  for (const auto& [token, id] : v->items()) vocab.add(token, ids.get(id, at / "vocab" / token));
  return vocab;
}

std::vector<std::pair<std::string, std::string>> read_merges(const json& j, const JsonPath& at,
                                                             ModelTables& tables) {
  if (tables.has_merges) return std::move(tables.merges);
  std::vector<std::pair<std::string, std::string>> merges;
  const json* m = find_member(j, "merges");
  if (!m) return merges;
  if (!m->is_array()) (at / "merges").fail(std::string("expected an array, found ") + m->type_name());
  merges.reserve(m->size());
  for (size_t i = 0; i < m->size(); ++i) {
    const json& item = (*m)[i];
    auto item_at = (at / "merges")[i];
    if (item.is_string()) {
      // The legacy form "a b".
      const std::string& s = item.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos)
        item_at.fail("expected two tokens separated by a space, found \"" + s + "\"");
      merges.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (item.is_array() && item.size() == 2) {
      merges.emplace_back(as_string(item[0], item_at[0]), as_string(item[1], item_at[1]));
    } else {
      item_at.fail(std::string("expected \"a b\" or [\"a\", \"b\"], found ") + item.type_name());
    }
  }
  return merges;
}

std::unique_ptr<Model> build_bpe(const json& j, const JsonPath& at, ModelTables& tables, const IdLimit& ids) {
  BpeOptions o;
  if (const json* unk = find_member(j, "unk_token")) o.unk_token = as_string(*unk, at / "unk_token");
  o.continuing_subword_prefix = get_string_or(j, "continuing_subword_prefix", at, "");
  o.end_of_word_suffix = get_string_or(j, "end_of_word_suffix", at, "");
  o.fuse_unk = get_bool_or(j, "fuse_unk", at, false);
  o.byte_fallback = get_bool_or(j, "byte_fallback", at, false);
  o.ignore_merges = get_bool_or(j, "ignore_merges", at, false);
  return std::make_unique<BpeModel>(read_vocab(j, at, tables, ids), read_merges(j, at, tables), std::move(o),
                                    at.str());
}

std::unique_ptr<Model> build_unigram(const json& j, const JsonPath& at) {
  const json* v = find_member(j, "vocab");
  if (!v || !v->is_array()) (at / "vocab").fail("expected an array of [piece, score]");
  std::vector<std::pair<std::string, double>> pieces;
  pieces.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const json& item = (*v)[i];
    auto item_at = (at / "vocab")[i];
    if (!item.is_array() || item.size() != 2 || !item[1].is_number()) item_at.fail("expected [piece, score]");
    pieces.emplace_back(as_string(item[0], item_at[0]), item[1].get<double>());
  }
  std::optional<int32_t> unk_id;
  if (const json* u = find_member(j, "unk_id")) {
    unk_id = get_id(*u, at / "unk_id");
    if (static_cast<size_t>(*unk_id) >= pieces.size()) (at / "unk_id").fail("outside the vocabulary");
  }
  return std::make_unique<UnigramModel>(std::move(pieces), unk_id,
                                        get_bool_or(j, "byte_fallback", at, false));
}

}  // namespace

std::unique_ptr<Model> build_model(const json& j, const JsonPath& at, ModelTables tables,
                                   const IdLimit& ids) {
  if (!j.is_object()) at.fail(std::string("expected an object, found ") + j.type_name());
  std::string type;
  if (const json* t = find_member(j, "type")) {
    type = as_string(*t, at / "type");
  } else if (tables.has_merges || find_member(j, "merges")) {  // older files name no type
    type = "BPE";
  } else if (const json* v = find_member(j, "vocab"); v && v->is_array()) {
    type = "Unigram";
  } else if (find_member(j, "max_input_chars_per_word")) {
    type = "WordPiece";
  } else {
    type = "WordLevel";
  }
  if (type == "BPE") return build_bpe(j, at, tables, ids);
  if (type == "Unigram") return build_unigram(j, at);
  if (type == "WordPiece") {
    int64_t max_chars = get_int_or(j, "max_input_chars_per_word", at, 100);
    if (max_chars < 0) (at / "max_input_chars_per_word").fail("must not be negative");
    return std::make_unique<WordPieceModel>(
        read_vocab(j, at, tables, ids), get_string_or(j, "unk_token", at, "[UNK]"),
        get_string_or(j, "continuing_subword_prefix", at, "##"), static_cast<size_t>(max_chars));
  }
  if (type == "WordLevel") {
    return std::make_unique<WordLevelModel>(read_vocab(j, at, tables, ids),
                                            get_string_or(j, "unk_token", at, "<unk>"));
  }
  unsupported_type(at, type);
}

}  // namespace tok

namespace {

std::vector<tok::AddedToken> read_added_tokens(const tok::json& doc, const tok::JsonPath& root,
                                               const tok::IdLimit& ids) {
  std::vector<tok::AddedToken> tokens;
  const tok::json* list = tok::find_member(doc, "added_tokens");
  if (!list) return tokens;
  auto at = root / "added_tokens";
  if (!list->is_array()) at.fail("expected an array");
  for (size_t i = 0; i < list->size(); ++i) {
    const tok::json& j = (*list)[i];
    auto item_at = at[i];
    if (!j.is_object()) item_at.fail("expected an object");
    tok::AddedToken t;
    const tok::json* id = tok::find_member(j, "id");
    if (!id) (item_at / "id").fail("missing");
    t.id = ids.get(*id, item_at / "id");
    t.content = tok::get_string(j, "content", item_at);
    t.special = tok::get_bool_or(j, "special", item_at, false);
    t.normalized = tok::get_bool_or(j, "normalized", item_at, !t.special);
    t.lstrip = tok::get_bool_or(j, "lstrip", item_at, false);
    t.rstrip = tok::get_bool_or(j, "rstrip", item_at, false);
    t.single_word = tok::get_bool_or(j, "single_word", item_at, false);
    tokens.push_back(std::move(t));
  }
  return tokens;
}

// How many tokens the document holds: vocabulary entries and added tokens (what bounds its ids).
size_t tokens_described(const tok::json& doc, const tok::ModelTables& tables) {
  size_t count = tables.vocab.size();
  if (const tok::json* model = tok::find_member(doc, "model")) {
    if (const tok::json* vocab = tok::find_member(*model, "vocab"); vocab && vocab->is_structured())
      count += vocab->size();
  }
  if (const tok::json* added = tok::find_member(doc, "added_tokens"); added && added->is_array())
    count += added->size();
  return count;
}

// Hugging Face ignores the ids written in "added_tokens": a token the model knows takes the model's
// id, any other the next id after the model's vocabulary and the added tokens so far.
std::vector<tok::AddedToken> assign_added_ids(std::vector<tok::AddedToken> tokens, const tok::Model& model) {
  std::unordered_map<std::string, int32_t> assigned;
  int64_t max_added = -1;
  auto model_size = static_cast<int64_t>(model.vocab_entries());
  for (tok::AddedToken& t : tokens) {
    if (auto it = assigned.find(t.content); it != assigned.end()) {
      t.id = it->second;
    } else if (auto id = model.token_to_id(t.content)) {
      t.id = *id;
    } else {
      t.id = static_cast<int32_t>(max_added < 0 ? model_size
                                                : (max_added >= model_size ? max_added + 1 : model_size));
    }
    assigned.emplace(t.content, t.id);
    max_added = std::max<int64_t>(max_added, t.id);
  }
  return tokens;
}

}  // namespace

Tokenizer Tokenizer::from_json(std::string_view json_text, std::string_view origin) {
  tok::TokenizerDocument parsed = tok::parse_tokenizer_document(json_text, origin);
  const tok::json& doc = parsed.doc;
  tok::JsonPath root(std::string(origin), "");
  if (!doc.is_object()) throw Error(std::string(origin) + ": expected a JSON object at the top level");
  auto impl = std::make_shared<Impl>();
  Impl& m = *impl;
  static const tok::json kNull;
  auto member = [&](std::string_view key) -> const tok::json& {
    const tok::json* v = tok::find_member(doc, key);
    return v ? *v : kNull;
  };
  if (!doc.contains("model")) (root / "model").fail("missing");
  const tok::IdLimit ids(tokens_described(doc, parsed.tables));
  m.normalizer = tok::build_normalizer(member("normalizer"), root / "normalizer");
  m.pre_tokenizer = tok::build_pre_tokenizer(member("pre_tokenizer"), root / "pre_tokenizer");
  m.model = tok::build_model(member("model"), root / "model", std::move(parsed.tables), ids);
  m.post_processor = tok::build_post_processor(member("post_processor"), root / "post_processor", ids);
  m.decoder = tok::build_decoder(member("decoder"), root / "decoder");
  m.added.build(assign_added_ids(read_added_tokens(doc, root, ids), *m.model), m.normalizer.get());
  return Tokenizer(std::move(impl));
}

namespace {

// A GPT-2 style folder: vocab.json + merges.txt, byte-level BPE.
std::string legacy_tokenizer_json(const std::filesystem::path& folder) {
  auto vocab_path = folder / "vocab.json";
  auto merges_path = folder / "merges.txt";
  tok::json vocab = tok::parse_json(util::read_file(vocab_path), vocab_path.string());
  tok::json merges = tok::json::array();
  std::string text = util::read_file(merges_path);
  size_t line_no = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.starts_with("#version")) continue;
    size_t space = line.find(' ');
    if (space == std::string::npos) {
      throw Error(merges_path.string() + ": line " + std::to_string(line_no) + ": expected two tokens");
    }
    merges.push_back(tok::json::array({line.substr(0, space), line.substr(space + 1)}));
  }
  tok::json doc = {
      {"version", "1.0"},
      {"added_tokens", tok::json::array()},
      {"normalizer", nullptr},
      {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
      {"post_processor", {{"type", "ByteLevel"}, {"trim_offsets", false}}},
      {"decoder", {{"type", "ByteLevel"}}},
      {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}},
  };
  // GPT-2's end-of-text token is special when the vocabulary has it.
  if (vocab.contains("<|endoftext|>")) {
    doc["added_tokens"].push_back({{"id", vocab["<|endoftext|>"]},
                                   {"content", "<|endoftext|>"},
                                   {"special", true},
                                   {"normalized", false}});
  }
  return doc.dump();
}

}  // namespace

Tokenizer Tokenizer::from_path(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw Error(path.string() + ": no such file or folder");
  if (!std::filesystem::is_directory(path, ec)) return from_json(util::read_file(path), path.string());
  auto json_path = path / "tokenizer.json";
  if (std::filesystem::exists(json_path, ec))
    return from_json(util::read_file(json_path), json_path.string());
  if (std::filesystem::exists(path / "vocab.json", ec) && std::filesystem::exists(path / "merges.txt", ec)) {
    return from_json(legacy_tokenizer_json(path), (path / "vocab.json").string());
  }
  throw Error(path.string() + ": no tokenizer.json (nor vocab.json + merges.txt) in this folder");
}

}  // namespace ortlm
