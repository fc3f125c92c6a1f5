#pragma once
// Building pipeline stages from their tokenizer.json objects (null gives null). Sequences nest at
// most 32 deep.
#include <memory>

#include "tokenizer/json_fields.hpp"
#include "tokenizer/stages.hpp"

namespace ortlm::tok {

std::unique_ptr<Normalizer> build_normalizer(const json& j, const JsonPath& at);
std::unique_ptr<PreTokenizer> build_pre_tokenizer(const json& j, const JsonPath& at);
struct ModelTables;
// `tables`: model.vocab / model.merges when they were streamed out of the document.
// Ids beyond `ids` are refused.
std::unique_ptr<Model> build_model(const json& j, const JsonPath& at, ModelTables tables, const IdLimit& ids);
std::unique_ptr<PostProcessor> build_post_processor(const json& j, const JsonPath& at, const IdLimit& ids);
std::unique_ptr<Decoder> build_decoder(const json& j, const JsonPath& at);

}  // namespace ortlm::tok
