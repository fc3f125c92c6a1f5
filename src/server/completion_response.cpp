#include "server/completion_response.hpp"

#include <ctime>
#include <random>

namespace ortlm::server {

namespace {

using json = nlohmann::json;

std::string random_id(const char* prefix) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  char hex[25];
  std::snprintf(hex, sizeof hex, "%012llx%012llx", static_cast<unsigned long long>(rng() & 0xffffffffffffULL),
                static_cast<unsigned long long>(rng() & 0xffffffffffffULL));
  return std::string(prefix) + hex;
}

std::string dump(const json& j) {
  // Model text is whole UTF-8, but a token's own text may be a lone byte: never fail to answer.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

const char* finish_reason(StopReason reason) {
  switch (reason) {
    case StopReason::max_tokens:
    case StopReason::context_full:
      return "length";
    default:
      return "stop";
  }
}

std::string sse(const std::string& payload) { return "data: " + payload + "\n\n"; }

CompletionResponse::CompletionResponse(const CompletionRequest& request, const std::string& model_id,
                                       const Tokenizer* tokenizer)
    : request_(request),
      model_id_(model_id),
      id_(random_id(request.endpoint == Endpoint::chat ? "chatcmpl-" : "cmpl-")),
      created_(static_cast<int64_t>(std::time(nullptr))),
      tokenizer_(tokenizer) {}

std::string CompletionResponse::token_text(std::span<const int32_t> context, int32_t id) const {
  if (!tokenizer_) return std::to_string(id);
  constexpr size_t kContext = 4;  // enough ids before it for any decoder's start-of-text handling
  context = context.last(std::min(context.size(), kContext));
  std::vector<int32_t> ids(context.begin(), context.end());
  const std::string before = tokenizer_->decode(ids);
  ids.push_back(id);
  const std::string with = tokenizer_->decode(ids);
  if (with.size() >= before.size() && with.compare(0, before.size(), before) == 0)
    return with.substr(before.size());
  const int32_t alone[] = {id};
  return tokenizer_->decode(alone);
}

json CompletionResponse::usage(const std::vector<GenerationResult>& results) const {
  size_t prompt = 0, completion = 0;
  for (const auto& p : request_.prompts) prompt += p.size();
  size_t cached = 0;  // each prompt counted once, as its first choice found it
  for (size_t c = 0; c < results.size(); ++c) {
    completion += results[c].new_ids.size();
    if (c % static_cast<size_t>(request_.n) == 0) cached += results[c].cached_prompt_tokens;
  }
  return {{"prompt_tokens", prompt},
          {"completion_tokens", completion},
          {"total_tokens", prompt + completion},
          {"prompt_tokens_details", {{"cached_tokens", cached}}}};
}

json CompletionResponse::logprobs(const GenerationResult& result, size_t choice) const {
  if (!request_.logprobs) return nullptr;
  const auto top_n = static_cast<size_t>(request_.top_logprobs);
  // Each token reads after the prompt and the tokens before it.
  std::vector<int32_t> ids = request_.prompts[prompt_of(choice)];
  ids.insert(ids.end(), result.new_ids.begin(), result.new_ids.end());
  const size_t prompt_length = request_.prompts[prompt_of(choice)].size();
  auto context = [&](size_t step) { return std::span<const int32_t>(ids).first(prompt_length + step); };
  if (request_.endpoint == Endpoint::chat) {
    json content = json::array();
    for (size_t i = 0; i < result.logprobs.size(); ++i) {
      const auto& step = result.logprobs[i];
      auto entry = [&](const TokenLogprob& t) {
        const std::string text = token_text(context(i), t.id);
        return json{{"token", text},
                    {"logprob", t.logprob},
                    {"bytes", std::vector<uint8_t>(text.begin(), text.end())}};
      };
      json item = entry(step.chosen);
      item["top_logprobs"] = json::array();
      for (size_t k = 0; k < std::min(top_n, step.top.size()); ++k)
        item["top_logprobs"].push_back(entry(step.top[k]));
      content.push_back(std::move(item));
    }
    return {{"content", std::move(content)}, {"refusal", nullptr}};
  }
  json tokens = json::array(), token_logprobs = json::array(), top = json::array(), offsets = json::array();
  size_t offset = request_.echo ? request_.prompt_texts[prompt_of(choice)].size() : 0;
  for (size_t i = 0; i < result.logprobs.size(); ++i) {
    const auto& step = result.logprobs[i];
    const std::string text = token_text(context(i), step.chosen.id);
    tokens.push_back(text);
    token_logprobs.push_back(step.chosen.logprob);
    json alternatives = json::object();
    for (size_t k = 0; k < std::min(top_n, step.top.size()); ++k)
      alternatives[token_text(context(i), step.top[k].id)] = step.top[k].logprob;
    top.push_back(std::move(alternatives));
    offsets.push_back(offset);
    offset += text.size();
  }
  return {{"tokens", tokens},
          {"token_logprobs", token_logprobs},
          {"top_logprobs", top},
          {"text_offset", offsets}};
}

std::string CompletionResponse::body(const std::vector<GenerationResult>& results) const {
  json choices = json::array();
  for (size_t c = 0; c < results.size(); ++c) {
    const auto& r = results[c];
    json choice = {{"index", c}};
    if (request_.endpoint == Endpoint::chat) {
      choice["message"] = {{"role", "assistant"}, {"content", r.text}, {"refusal", nullptr}};
    } else {
      choice["text"] = request_.echo ? request_.prompt_texts[prompt_of(c)] + r.text : r.text;
    }
    choice["logprobs"] = logprobs(r, c);
    choice["finish_reason"] = finish_reason(r.stop_reason);
    choices.push_back(std::move(choice));
  }
  json out = {{"id", id_},
              {"object", request_.endpoint == Endpoint::chat ? "chat.completion" : "text_completion"},
              {"created", created_},
              {"model", model_id_},
              {"choices", std::move(choices)},
              {"usage", usage(results)},
              {"system_fingerprint", "ortlm"}};
  return dump(out);
}

json CompletionResponse::chunk(json choices) const {
  json out = {{"id", id_},
              {"object", request_.endpoint == Endpoint::chat ? "chat.completion.chunk" : "text_completion"},
              {"created", created_},
              {"model", model_id_},
              {"system_fingerprint", "ortlm"},
              {"choices", std::move(choices)}};
  if (request_.include_usage) out["usage"] = nullptr;
  return out;
}

std::string CompletionResponse::stream_start(size_t c) const {
  if (request_.endpoint == Endpoint::chat)
    return sse(dump(chunk(json::array({{{"index", c},
                                        {"delta", {{"role", "assistant"}, {"content", ""}}},
                                        {"logprobs", nullptr},
                                        {"finish_reason", nullptr}}}))));
  if (!request_.echo) return {};
  return stream_text(c, request_.prompt_texts[prompt_of(c)]);
}

std::string CompletionResponse::stream_text(size_t c, const std::string& text) const {
  json choice = {{"index", c}, {"logprobs", nullptr}, {"finish_reason", nullptr}};
  if (request_.endpoint == Endpoint::chat)
    choice["delta"] = {{"content", text}};
  else
    choice["text"] = text;
  return sse(dump(chunk(json::array({choice}))));
}

std::string CompletionResponse::stream_end(size_t c, const GenerationResult& result) const {
  json choice = {
      {"index", c}, {"logprobs", logprobs(result, c)}, {"finish_reason", finish_reason(result.stop_reason)}};
  if (request_.endpoint == Endpoint::chat)
    choice["delta"] = json::object();
  else
    choice["text"] = "";
  return sse(dump(chunk(json::array({choice}))));
}

std::string CompletionResponse::stream_finish(const std::vector<GenerationResult>& results) const {
  std::string out;
  if (request_.include_usage) {
    json last = chunk(json::array());
    last["usage"] = usage(results);
    out += sse(dump(last));
  }
  return out + "data: [DONE]\n\n";
}

}  // namespace ortlm::server
