#pragma once
// Parsing tokenizer.json in one pass. The big members, model.vocab (when an object) and
// model.merges, are streamed straight into vectors instead of becoming JSON nodes: that is most of
// the document, and most of the load time.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tokenizer/json_fields.hpp"

namespace ortlm::tok {

struct ModelTables {
  bool has_vocab = false;  // model.vocab was an object, now in `vocab` (and null in the document)
  std::vector<std::pair<std::string, int32_t>> vocab;
  bool has_merges = false;  // model.merges was an array, now in `merges`
  std::vector<std::pair<std::string, std::string>> merges;
};

struct TokenizerDocument {
  json doc;
  ModelTables tables;
};

// Throws ortlm::Error naming `origin` (and the byte or field) on invalid JSON or a malformed entry.
// Refuses JSON nested deeper than 128 levels.
TokenizerDocument parse_tokenizer_document(std::string_view text, std::string_view origin);
// Any other JSON file the tokenizer reads (vocab.json), with the same errors and depth limit.
json parse_json(std::string_view text, std::string_view origin);

}  // namespace ortlm::tok
