#pragma once
// Log-probabilities of a step, as OpenAI's logprobs report them: the natural log of the softmax of
// the model's raw logits (before temperature or any processor), for the chosen token and the most
// likely ones.
#include <cstdint>
#include <span>

#include "ortlm/generator.hpp"

namespace ortlm::engine {

// Fills `out` for the token `chosen` with the `top` most likely tokens (ties: lower id first).
// `out.top` keeps its capacity from step to step.
void step_logprobs(std::span<const float> raw_logits, int32_t chosen, int32_t top, StepLogprobs& out);

}  // namespace ortlm::engine
