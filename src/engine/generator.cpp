#include "ortlm/generator.hpp"

#include "ortlm/engine.hpp"
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
    case StopReason::error:
      return "error";
  }
  return "?";
}

double GenerationResult::decode_tokens_per_second() const {
  // The first new token comes from the prefill; the rest from decode steps.
  return decode_seconds > 0 && new_ids.size() > 1 ? static_cast<double>(new_ids.size() - 1) / decode_seconds
                                                  : 0.0;
}

// A one-request engine: its KV cache and buffers are reused from one generate() to the next.
struct Generator::State {
  State(std::shared_ptr<const Model> model, const EngineOptions& options)
      : engine(std::move(model), options) {}
  Engine engine;
};

Generator::Generator(std::shared_ptr<Model> model) : Generator(std::move(model), {.max_batch_rows = 1}) {}
Generator::Generator(std::shared_ptr<Model> model, const EngineOptions& options)
    : model_(std::move(model)), state_(std::make_unique<State>(model_, options)) {}
Generator::~Generator() = default;

namespace {

// Runs the one request `engine` holds; its failure is the call's failure.
GenerationResult run_one(Engine& engine) {
  auto results = engine.run();
  GenerationResult result = std::move(results.at(0).second);
  if (result.stop_reason == StopReason::error) throw Error(result.error);
  return result;
}

}  // namespace

GenerationResult Generator::generate(std::string_view prompt, const GenerationOptions& options,
                                     const TokenCallback& on_token) {
  state_->engine.add_request(prompt, options, on_token);
  return run_one(state_->engine);
}

GenerationResult Generator::generate(std::span<const int32_t> prompt_ids, const GenerationOptions& options,
                                     const TokenCallback& on_token) {
  state_->engine.add_request(prompt_ids, options, on_token);
  return run_one(state_->engine);
}

}  // namespace ortlm
