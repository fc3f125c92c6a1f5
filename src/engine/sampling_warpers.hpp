#pragma once
// The warpers of Hugging Face transformers, which apply only when sampling, in its order: temperature
// -> top-k -> top-p -> min-p -> typical-p (see logits_processors.hpp for the whole order and its source).
// transformers sets the logits of the tokens a warper drops to -inf and keeps the vocabulary's shape;
// here a warper keeps a prefix of a candidate list instead, which gives the same distribution without
// touching the whole vocabulary again (a top-k of 40 leaves 40 candidates to the later warpers).
#include <cstddef>
#include <cstdint>
#include <span>

namespace ortlm::engine {

struct Candidate {
  int32_t id;
  float logit;  // after the temperature
  float key;    // scratch for the warper at work (typical's distance to the entropy, the draw's weight)
};

// Each warper reorders `candidates` so that the ones it keeps come first, and returns how many it
// keeps: at least one when `candidates` is not empty (min_tokens_to_keep = 1). Logits are finite.

// TopKLogitsWarper: the `top_k` largest logits, and every logit equal to the smallest of them.
size_t keep_top_k(std::span<Candidate> candidates, int32_t top_k);

// TopPLogitsWarper: sorted by descending logit (ties by id), the shortest prefix whose probability
// reaches `top_p`; the kept ones stay sorted.
size_t keep_top_p(std::span<Candidate> candidates, float top_p);

// MinPLogitsWarper: the tokens whose probability is at least min_p x the largest one; order kept.
size_t keep_min_p(std::span<Candidate> candidates, float min_p);

// TypicalLogitsWarper: sorted by |-log p - entropy| ascending, the shortest prefix whose probability
// reaches `mass`, and every token as close to the entropy as the last of it.
size_t keep_typical(std::span<Candidate> candidates, float mass);

}  // namespace ortlm::engine
