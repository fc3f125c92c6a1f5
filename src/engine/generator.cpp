#include "ortlm/generator.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

#include "engine/sampler.hpp"
#include "engine/stop_strings.hpp"
#include "model/model_runner.hpp"
#include "ortlm/error.hpp"

namespace ortlm {

const char* to_string(StopReason reason) {
  switch (reason) {
    case StopReason::eos:
      return "eos";
    case StopReason::stop_token:
      return "stop_token";
    case StopReason::stop_string:
      return "stop_string";
    case StopReason::max_tokens:
      return "max_tokens";
    case StopReason::context_full:
      return "context_full";
    case StopReason::cancelled:
      return "cancelled";
  }
  return "?";
}

double GenerationResult::decode_tokens_per_second() const {
  // The first new token comes from the prefill; the rest from decode steps.
  return decode_seconds > 0 && new_ids.size() > 1 ? static_cast<double>(new_ids.size() - 1) / decode_seconds
                                                  : 0.0;
}

namespace {

// A seed from the system's entropy source, as llama.cpp draws one when none is given.
uint64_t random_seed() {
  std::random_device device;
  return (uint64_t{device()} << 32) | device();
}

}  // namespace

struct Generator::State {
  std::vector<float> logits;      // scratch copy the sampler may modify
  std::vector<int32_t> sequence;  // prompt + new ids
  std::string decoded;            // text the detokenizer completed this step
  std::string piece;              // what of it is safe to emit (stop strings held back)
};

Generator::Generator(std::shared_ptr<Model> model)
    : model_(std::move(model)), state_(std::make_unique<State>()) {}
Generator::~Generator() = default;

GenerationResult Generator::generate(std::string_view prompt, const GenerationOptions& options,
                                     const TokenCallback& on_token) {
  const Tokenizer* tokenizer = model_->tokenizer();
  if (!tokenizer)
    throw Error(model_->folder().string() + ": the model has no tokenizer.json; give token ids instead");
  const auto ids = tokenizer->encode_ids(prompt, true);
  return generate(std::span<const int32_t>(ids), options, on_token);
}

GenerationResult Generator::generate(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                                     const TokenCallback& on_token) {
  using Clock = std::chrono::steady_clock;
  const ModelConfig& config = model_->config();
  model::ModelRunner& runner = model_->runner();
  GenerationResult result;
  result.prompt_ids.assign(prompt_ids.begin(), prompt_ids.end());
  if (result.prompt_ids.empty()) {
    if (!config.bos_token_id) throw Error("empty prompt and the model has no BOS token to start from");
    result.prompt_ids.push_back(*config.bos_token_id);
  }
  if (config.context_length <= 0)
    throw Error(model_->onnx_path().string() +
                ": the context length is unknown (no max_position_embeddings in config.json, no "
                "context_length in genai_config.json): give it with --context N "
                "(SessionOptions::context_length)");
  const int32_t prompt_length = static_cast<int32_t>(result.prompt_ids.size());
  if (prompt_length > config.context_length)
    throw Error("the prompt has " + std::to_string(prompt_length) +
                " tokens, more than the model's context length " + std::to_string(config.context_length));
  for (int32_t id : result.prompt_ids)
    if (id < 0 || id >= runner.vocab_size())
      throw Error("prompt token id " + std::to_string(id) + " is outside the model's vocabulary (size " +
                  std::to_string(runner.vocab_size()) + ")");
  result.seed = options.seed ? *options.seed : random_seed();
  engine::Sampler sampler(options, runner.vocab_size(), result.seed, config.eos_token_ids);  // validates

  const Tokenizer* tokenizer = model_->tokenizer();
  std::optional<StreamDecoder> detokenizer;
  if (tokenizer) {
    detokenizer.emplace(*tokenizer, true);
    detokenizer->prefill(result.prompt_ids);
  }
  engine::StopStringFilter stop_filter(options.stop_strings);

  State& s = *state_;
  s.sequence.assign(result.prompt_ids.begin(), result.prompt_ids.end());
  s.sequence.reserve(static_cast<size_t>(prompt_length + options.max_new_tokens));
  result.new_ids.reserve(static_cast<size_t>(options.max_new_tokens));
  const int32_t capacity =
      std::min<int64_t>(config.context_length, int64_t{prompt_length} + options.max_new_tokens);
  runner.begin(capacity);

  const auto start = Clock::now();
  auto logits = runner.forward(result.prompt_ids);
  const auto prefill_end = Clock::now();
  result.prefill_seconds = std::chrono::duration<double>(prefill_end - start).count();
  result.stop_reason = StopReason::max_tokens;
  auto is_eos = [&](int32_t id) {
    return options.stop_at_eos && std::find(config.eos_token_ids.begin(), config.eos_token_ids.end(), id) !=
                                      config.eos_token_ids.end();
  };

  while (static_cast<int32_t>(result.new_ids.size()) < options.max_new_tokens) {
    s.logits.assign(logits.begin(), logits.end());
    const int32_t id = sampler.next(s.logits, s.sequence, result.prompt_ids.size());
    result.new_ids.push_back(id);
    s.sequence.push_back(id);
    const bool eos = is_eos(id);
    const bool stop_token = std::find(options.stop_token_ids.begin(), options.stop_token_ids.end(), id) !=
                            options.stop_token_ids.end();
    s.piece.clear();
    bool hit_stop_string = false;
    // Models often have more logits than the tokenizer has tokens (padded vocabularies); such ids
    // have no text, as in Hugging Face's decode, which skips them.
    const bool has_text = tokenizer && static_cast<size_t>(id) < tokenizer->vocab_size();
    if (detokenizer && has_text && !eos && !stop_token) {
      s.decoded.clear();
      detokenizer->put(id, s.decoded);
      hit_stop_string = stop_filter.push(s.decoded, s.piece);
      result.text += s.piece;
    }
    if (on_token && !on_token(id, s.piece)) {
      result.stop_reason = StopReason::cancelled;
      break;
    }
    if (eos || stop_token || hit_stop_string) {
      result.stop_reason = eos          ? StopReason::eos
                           : stop_token ? StopReason::stop_token
                                        : StopReason::stop_string;
      break;
    }
    if (static_cast<int32_t>(result.new_ids.size()) >= options.max_new_tokens) break;
    if (runner.position() >= config.context_length) {
      result.stop_reason = StopReason::context_full;
      break;
    }
    logits = runner.forward(std::span<const int32_t>(&s.sequence.back(), 1));
  }
  if (detokenizer && result.stop_reason != StopReason::stop_string) {
    std::string tail, safe;
    detokenizer->finish(tail);
    stop_filter.push(tail, safe);
    stop_filter.flush(safe);
    result.text += safe;
    if (on_token && !safe.empty()) on_token(-1, safe);
  }
  result.decode_seconds = std::chrono::duration<double>(Clock::now() - prefill_end).count();
  return result;
}

}  // namespace ortlm
