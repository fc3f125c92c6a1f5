#include "server/completion_request.hpp"

#include <cmath>
#include <limits>

#include "ortlm/error.hpp"
#include "server/api_error.hpp"
#include "util/file.hpp"

namespace ortlm::server {

namespace {

using ojson = nlohmann::ordered_json;

constexpr size_t kMaxStopStrings = 4;  // OpenAI's limit
constexpr size_t kMaxStopBytes = 1024;
constexpr size_t kMaxMessages = 4096;
constexpr int32_t kMaxCompletionLogprobs = 5;  // OpenAI's limit for /v1/completions

ojson parse_body(std::string_view body) {
  ojson j;
  try {
    j = util::parse_ordered_json(std::string(body), "request body");
  } catch (const Error& e) {
    throw bad_request(std::string("malformed JSON: ") + e.what());
  }
  if (!j.is_object()) throw bad_request("the request body must be a JSON object");
  return j;
}

// A field that is absent or null reads as not given.
const ojson* field(const ojson& j, const char* name) {
  const auto it = j.find(name);
  return it == j.end() || it->is_null() ? nullptr : &*it;
}

double number(const ojson& j, const char* name, double low, double high) {
  const ojson* f = field(j, name);
  if (!f->is_number()) throw bad_request(std::string(name) + " must be a number", name);
  const double v = f->get<double>();
  if (!std::isfinite(v) || v < low || v > high)
    throw bad_request(std::string(name) + " must be in [" + std::to_string(low) + ", " +
                          std::to_string(high) + "], not " + f->dump(),
                      name);
  return v;
}

int64_t integer(const ojson& j, const char* name, int64_t low, int64_t high) {
  const ojson* f = field(j, name);
  if (!f->is_number_integer()) throw bad_request(std::string(name) + " must be an integer", name);
  if (f->is_number_unsigned() && f->get<uint64_t>() > static_cast<uint64_t>(high))
    throw bad_request(
        std::string(name) + " must be in [" + std::to_string(low) + ", " + std::to_string(high) + "]", name);
  const int64_t v = f->get<int64_t>();
  if (v < low || v > high)
    throw bad_request(std::string(name) + " must be in [" + std::to_string(low) + ", " +
                          std::to_string(high) + "], not " + std::to_string(v),
                      name);
  return v;
}

bool boolean(const ojson& j, const char* name) {
  const ojson* f = field(j, name);
  if (!f->is_boolean()) throw bad_request(std::string(name) + " must be true or false", name);
  return f->get<bool>();
}

void check_model(const ojson& j, const ServedModel& served) {
  const ojson* f = field(j, "model");
  if (!f) return;
  if (!f->is_string()) throw bad_request("model must be a string", "model");
  if (f->get<std::string>() != served.id)
    throw ApiError(
        404,
        "the model '" + f->get<std::string>() + "' does not exist; this server serves '" + served.id + "'",
        "model", "model_not_found");
}

// Fields both endpoints share.
void read_sampling(const ojson& j, const ServedModel& served, CompletionRequest& r) {
  GenerationOptions& o = r.options;
  if (field(j, "temperature")) o.temperature = static_cast<float>(number(j, "temperature", 0, 2));
  if (field(j, "top_p")) {
    o.top_p = static_cast<float>(number(j, "top_p", 0, 1));
    if (o.top_p == 0) throw bad_request("top_p must be more than 0", "top_p");
  }
  // Extensions vLLM and llama.cpp's server accept too.
  if (field(j, "top_k"))
    o.top_k = static_cast<int32_t>(std::max<int64_t>(0, integer(j, "top_k", -1, 1 << 30)));
  if (field(j, "min_p")) o.min_p = static_cast<float>(number(j, "min_p", 0, 1));
  if (field(j, "repetition_penalty"))
    o.repetition_penalty =
        static_cast<float>(number(j, "repetition_penalty", kMinRepetitionPenalty, kMaxRepetitionPenalty));
  if (field(j, "presence_penalty"))
    o.presence_penalty =
        static_cast<float>(number(j, "presence_penalty", -kMaxPresencePenalty, kMaxPresencePenalty));
  if (field(j, "frequency_penalty"))
    o.frequency_penalty =
        static_cast<float>(number(j, "frequency_penalty", -kMaxFrequencyPenalty, kMaxFrequencyPenalty));
  if (field(j, "ignore_eos")) o.stop_at_eos = !boolean(j, "ignore_eos");  // vLLM's, for benchmarks
  if (field(j, "seed"))
    o.seed = static_cast<uint64_t>(
        integer(j, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));
  if (field(j, "n")) r.n = static_cast<int32_t>(integer(j, "n", 1, served.max_n));
  if (const ojson* b = field(j, "best_of"); b && (!b->is_number_integer() || b->get<int64_t>() != r.n))
    throw bad_request("best_of is not supported (other than equal to n)", "best_of");
  if (const ojson* stop = field(j, "stop")) {
    std::vector<std::string> strings;
    if (stop->is_string()) {
      strings.push_back(stop->get<std::string>());
    } else if (stop->is_array() && stop->size() <= kMaxStopStrings) {
      for (const auto& s : *stop) {
        if (!s.is_string()) throw bad_request("stop must be a string or a list of strings", "stop");
        strings.push_back(s.get<std::string>());
      }
    } else {
      throw bad_request("stop must be a string or a list of at most 4 strings", "stop");
    }
    for (const auto& s : strings)
      if (s.empty() || s.size() > kMaxStopBytes)
        throw bad_request("each stop string must have 1 to " + std::to_string(kMaxStopBytes) + " bytes",
                          "stop");
    o.stop_strings = std::move(strings);
  }
  if (const ojson* bias = field(j, "logit_bias")) {
    if (!bias->is_object())
      throw bad_request("logit_bias must be an object of token id -> bias", "logit_bias");
    const int32_t vocab = served.model->config().vocab_size;
    for (const auto& [key, value] : bias->items()) {
      size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (const std::exception&) {
      }
      if (used != key.size() || id < 0 || id >= vocab)
        throw bad_request("logit_bias key '" + key + "' is not a token id of this model (0.." +
                              std::to_string(vocab - 1) + ")",
                          "logit_bias");
      if (!value.is_number() || !std::isfinite(value.get<double>()) ||
          std::abs(value.get<double>()) > kMaxLogitBias)
        throw bad_request("logit_bias values must be numbers in [-100, 100]", "logit_bias");
      o.logit_bias.emplace_back(static_cast<int32_t>(id), value.get<float>());
    }
  }
  if (field(j, "stream")) r.stream = boolean(j, "stream");
  if (const ojson* so = field(j, "stream_options")) {
    if (!so->is_object()) throw bad_request("stream_options must be an object", "stream_options");
    if (field(*so, "include_usage")) r.include_usage = boolean(*so, "include_usage");
  }
}

// max_tokens (and chat's max_completion_tokens), bounded by the server and the context left.
void read_max_tokens(const ojson& j, const ServedModel& served, CompletionRequest& r,
                     int32_t default_tokens) {
  const char* name = field(j, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
  size_t longest = 0;
  for (const auto& p : r.prompts) longest = std::max(longest, p.size());
  const int64_t context = served.model->config().context_length;
  if (static_cast<int64_t>(longest) >= context)
    throw bad_request("this model's maximum context length is " + std::to_string(context) +
                          " tokens, and the prompt has " + std::to_string(longest),
                      r.endpoint == Endpoint::chat ? "messages" : "prompt");
  const int64_t room = context - static_cast<int64_t>(longest);
  if (field(j, name)) {
    const int64_t asked = integer(j, name, 1, served.max_tokens);
    if (asked > room)
      throw bad_request("this model's maximum context length is " + std::to_string(context) +
                            " tokens: the " + std::to_string(longest) + "-token prompt leaves " +
                            std::to_string(room) + ", not " + std::to_string(asked),
                        name);
    r.options.max_new_tokens = static_cast<int32_t>(asked);
  } else {
    r.options.max_new_tokens =
        static_cast<int32_t>(std::min<int64_t>({default_tokens, served.max_tokens, room}));
  }
}

void check_options(CompletionRequest& r, const ServedModel& served) {
  if (r.logprobs) r.options.logprobs = std::max(1, r.top_logprobs);
  try {
    validate(r.options, served.model->config().vocab_size);
  } catch (const Error& e) {
    throw bad_request(e.what());
  }
}

// A message's content as the template gets it: a string (text parts joined), or null.
ojson message_content(const ojson& content, size_t index) {
  if (content.is_null() || content.is_string()) return content;
  const std::string param = "messages[" + std::to_string(index) + "].content";
  if (!content.is_array()) throw bad_request(param + " must be a string or a list of parts", param);
  std::string text;
  for (const auto& part : content) {
    const ojson* type = part.is_object() ? field(part, "type") : nullptr;
    if (!type || *type != "text" || !field(part, "text") || !part["text"].is_string())
      throw bad_request(param + ": only {\"type\": \"text\", \"text\": ...} parts are supported", param);
    text += part["text"].get<std::string>();
  }
  return text;
}

ojson read_messages(const ojson& j) {
  const ojson* messages = field(j, "messages");
  if (!messages || !messages->is_array() || messages->empty())
    throw bad_request("messages must be a non-empty list", "messages");
  if (messages->size() > kMaxMessages)
    throw bad_request("more than " + std::to_string(kMaxMessages) + " messages", "messages");
  ojson out = ojson::array();
  for (size_t i = 0; i < messages->size(); ++i) {
    const ojson& m = (*messages)[i];
    const std::string param = "messages[" + std::to_string(i) + "]";
    if (!m.is_object() || !field(m, "role") || !m["role"].is_string())
      throw bad_request(param + " must be an object with a string role", param);
    std::string role = m["role"].get<std::string>();
    if (role == "developer") role = "system";  // OpenAI's newer name for it
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      throw bad_request(param + ".role '" + role + "' is not one of system, developer, user, assistant, tool",
                        param + ".role");
    ojson message = m;
    message["role"] = role;
    message["content"] = message_content(m.contains("content") ? m["content"] : ojson(nullptr), i);
    if (message["content"].is_null() && role != "assistant")
      throw bad_request(param + ".content is missing", param + ".content");
    out.push_back(std::move(message));
  }
  return out;
}

std::vector<int32_t> checked_ids(const ojson& ids, const ServedModel& served) {
  std::vector<int32_t> out;
  const int32_t vocab = served.model->config().vocab_size;
  for (const auto& id : ids) {
    if (!id.is_number_integer() || id.get<int64_t>() < 0 || id.get<int64_t>() >= vocab)
      throw bad_request("prompt token ids must be integers in [0, " + std::to_string(vocab) + ")", "prompt");
    out.push_back(id.get<int32_t>());
  }
  if (out.empty()) throw bad_request("a prompt of token ids must not be empty", "prompt");
  return out;
}

const Tokenizer& tokenizer_of(const ServedModel& served) {
  if (!served.model->tokenizer())
    throw bad_request("this model has no tokenizer: give the prompt as token ids (/v1/completions)",
                      "prompt");
  return *served.model->tokenizer();
}

}  // namespace

CompletionRequest parse_chat_request(std::string_view body, const ServedModel& served) {
  const ojson j = parse_body(body);
  check_model(j, served);
  CompletionRequest r;
  r.endpoint = Endpoint::chat;
  const ojson messages = read_messages(j);
  ChatTemplateOptions template_options;
  template_options.add_generation_prompt = true;
  if (const ojson* tools = field(j, "tools")) {
    if (!tools->is_array()) throw bad_request("tools must be a list", "tools");
    template_options.tools = *tools;
  }
  std::string prompt;
  try {
    prompt = served.chat_template.render(messages, template_options);
  } catch (const Error& e) {
    throw bad_request(std::string("the model's chat template refused the messages: ") + e.what(), "messages");
  }
  // As ortlm chat does: a real template writes BOS itself; the plain fallback gets special tokens added.
  r.prompts.push_back(tokenizer_of(served).encode_ids(prompt, served.chat_template.is_fallback()));
  read_sampling(j, served, r);
  if (field(j, "logprobs")) r.logprobs = boolean(j, "logprobs");
  if (field(j, "top_logprobs")) {
    r.top_logprobs = static_cast<int32_t>(integer(j, "top_logprobs", 0, served.max_top_logprobs));
    if (!r.logprobs) throw bad_request("top_logprobs needs logprobs set to true", "top_logprobs");
  }
  read_max_tokens(j, served, r, served.max_tokens);
  check_options(r, served);
  return r;
}

CompletionRequest parse_completion_request(std::string_view body, const ServedModel& served) {
  const ojson j = parse_body(body);
  check_model(j, served);
  CompletionRequest r;
  r.endpoint = Endpoint::completions;
  const ojson* prompt = field(j, "prompt");
  if (!prompt) throw bad_request("prompt is required", "prompt");
  auto add_text = [&](const ojson& text) {
    r.prompt_texts.push_back(text.get<std::string>());
    r.prompts.push_back(tokenizer_of(served).encode_ids(r.prompt_texts.back(), true));
  };
  if (prompt->is_string()) {
    add_text(*prompt);
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number_integer()) {
    r.prompts.push_back(checked_ids(*prompt, served));
  } else if (prompt->is_array() && !prompt->empty() && prompt->size() <= static_cast<size_t>(served.max_n)) {
    for (const auto& p : *prompt) {
      if (p.is_string())
        add_text(p);
      else if (p.is_array())
        r.prompts.push_back(checked_ids(p, served));
      else
        throw bad_request("prompt must be a string, a list of strings, or token ids", "prompt");
    }
  } else {
    throw bad_request(
        "prompt must be a string, a list of 1 to " + std::to_string(served.max_n) + " strings, or token ids",
        "prompt");
  }
  if (field(j, "suffix")) throw bad_request("suffix is not supported", "suffix");
  read_sampling(j, served, r);
  if (field(j, "logprobs")) {
    r.top_logprobs = static_cast<int32_t>(integer(j, "logprobs", 0, kMaxCompletionLogprobs));
    r.logprobs = true;
  }
  if (field(j, "echo")) r.echo = boolean(j, "echo");
  if (r.echo && r.prompt_texts.size() != r.prompts.size())
    throw bad_request("echo needs text prompts", "echo");
  read_max_tokens(j, served, r, 16);  // OpenAI's default for completions
  check_options(r, served);
  return r;
}

}  // namespace ortlm::server
