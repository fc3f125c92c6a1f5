#include "tokenizer/json_document.hpp"

namespace ortlm::tok {

namespace {

// Deeper JSON is refused before anything is built from it: real tokenizer.json files nest about 8
// levels, and whatever reads the document recursively then has a shallow stack to walk.
constexpr size_t kMaxJsonDepth = 128;

// A SAX handler that builds the DOM (through nlohmann's own builder) except for the two tables
// (when `capture_tables`), refusing documents nested deeper than kMaxJsonDepth.
class DocumentReader {
 public:
  DocumentReader(TokenizerDocument& out, std::string_view origin, bool capture_tables)
      : out_(out), dom_(out.doc), root_(std::string(origin), ""), capture_tables_(capture_tables) {}

  bool null() { return capturing() ? fail_value("null") : dom_.null(); }
  bool boolean(bool v) { return capturing() ? fail_value("a boolean") : dom_.boolean(v); }
  bool number_integer(json::number_integer_t v) { return capturing() ? id_value(v) : dom_.number_integer(v); }
  bool number_unsigned(json::number_unsigned_t v) {
    if (!capturing()) return dom_.number_unsigned(v);
    return id_value(v > INT32_MAX ? int64_t{INT32_MAX} + 1 : static_cast<int64_t>(v));
  }
  bool number_float(json::number_float_t v, const std::string& s) {
    return capturing() ? fail_value("a number") : dom_.number_float(v, s);
  }
  bool binary(json::binary_t& b) { return capturing() ? fail_value("binary") : dom_.binary(b); }

  bool string(std::string& s) {
    switch (mode_) {
      case Mode::Merges: {
        size_t space = s.find(' ');
        if (space == std::string::npos)
          merge_at().fail("expected two tokens separated by a space, found \"" + s + "\"");
        out_.tables.merges.emplace_back(s.substr(0, space), s.substr(space + 1));
        return true;
      }
      case Mode::MergePair:
        if (pair_parts_ == 0) out_.tables.merges.emplace_back(std::move(s), std::string());
        if (pair_parts_ == 1) out_.tables.merges.back().second = std::move(s);
        if (++pair_parts_ > 2) merge_at().fail("expected [\"a\", \"b\"]");
        return true;
      case Mode::Vocab:
        return fail_value("a string");
      case Mode::None:
        return dom_.string(s);
    }
    return true;
  }

  bool start_object(std::size_t n) {
    if (mode_ == Mode::None && capture_tables_ && at_model_member("vocab")) {
      mode_ = Mode::Vocab;
      out_.tables.has_vocab = true;
      ++depth_;
      return dom_.null();  // the document keeps a null in its place
    }
    if (capturing()) return fail_value("an object");
    enter();
    return dom_.start_object(n);
  }

  bool key(std::string& k) {
    if (mode_ == Mode::Vocab) {
      key_ = std::move(k);
      return true;
    }
    if (depth_ <= 2) keys_[depth_] = k;
    return dom_.key(k);
  }

  bool end_object() {
    --depth_;
    if (mode_ == Mode::Vocab) {
      mode_ = Mode::None;
      return true;
    }
    return dom_.end_object();
  }

  bool start_array(std::size_t n) {
    if (mode_ == Mode::None && capture_tables_ && at_model_member("merges")) {
      mode_ = Mode::Merges;
      out_.tables.has_merges = true;
      ++depth_;
      return dom_.null();
    }
    if (mode_ == Mode::Merges) {
      mode_ = Mode::MergePair;
      pair_parts_ = 0;
      return true;
    }
    if (capturing()) return fail_value("an array");
    enter();
    return dom_.start_array(n);
  }

  bool end_array() {
    if (mode_ == Mode::MergePair) {
      if (pair_parts_ != 2) merge_at().fail("expected [\"a\", \"b\"]");
      mode_ = Mode::Merges;
      return true;
    }
    --depth_;
    if (mode_ == Mode::Merges) {
      mode_ = Mode::None;
      return true;
    }
    return dom_.end_array();
  }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token, const Exception& e) {
    return dom_.parse_error(position, token, e);
  }

 private:
  enum class Mode { None, Vocab, Merges, MergePair };

  bool capturing() const { return mode_ != Mode::None; }
  void enter() {
    if (++depth_ <= kMaxJsonDepth) return;
    std::string where = keys_[1].empty() ? "" : " (in \"" + keys_[1] + "\")";
    throw Error(root_.origin() + ": JSON nested deeper than " + std::to_string(kMaxJsonDepth) + " levels" +
                where);
  }
  // The value about to start is the member `name` of the top-level "model" object.
  bool at_model_member(std::string_view name) const {
    return depth_ == 2 && keys_[1] == "model" && keys_[2] == name;
  }
  JsonPath merge_at() const {
    size_t index = out_.tables.merges.size() - (mode_ == Mode::MergePair && pair_parts_ > 0 ? 1 : 0);
    return (root_ / "model" / "merges")[index];
  }
  bool id_value(int64_t v) {
    if (mode_ != Mode::Vocab) return fail_value("a number");
    auto at = root_ / "model" / "vocab" / key_;
    if (v < 0 || v > INT32_MAX) at.fail("id " + std::to_string(v) + " is out of range");
    out_.tables.vocab.emplace_back(std::move(key_), static_cast<int32_t>(v));
    return true;
  }
  [[noreturn]] bool fail_value(std::string_view found) const {
    if (mode_ == Mode::Vocab) {
      (root_ / "model" / "vocab" / key_).fail("expected an id (integer), found " + std::string(found));
    }
    merge_at().fail("expected \"a b\" or [\"a\", \"b\"], found " + std::string(found));
  }

  TokenizerDocument& out_;
  nlohmann::detail::json_sax_dom_parser<json> dom_;
  JsonPath root_;
  Mode mode_ = Mode::None;
  size_t depth_ = 0;     // open containers the DOM sees, plus the captured one
  std::string keys_[3];  // the last key at depths 1 and 2
  std::string key_;      // the vocab key awaiting its id
  int pair_parts_ = 0;
  bool capture_tables_;
};

void parse_into(TokenizerDocument& out, std::string_view text, std::string_view origin, bool capture_tables) {
  DocumentReader reader(out, origin, capture_tables);
  try {
    json::sax_parse(text, &reader);
  } catch (const json::parse_error& e) {
    throw Error(std::string(origin) + ": invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. a number too large for a double
    throw Error(std::string(origin) + ": invalid JSON: " + e.what());
  }
}

}  // namespace

TokenizerDocument parse_tokenizer_document(std::string_view text, std::string_view origin) {
  TokenizerDocument out;
  parse_into(out, text, origin, true);
  return out;
}

json parse_json(std::string_view text, std::string_view origin) {
  TokenizerDocument out;
  parse_into(out, text, origin, false);
  return std::move(out.doc);
}

}  // namespace ortlm::tok
