#pragma once
// One sequence driven straight through ModelRunner and a PaddedKvCache (no engine, no sampling), for
// the tests that check the runtime below the engine: KV cache versus recompute, the attention rewrite.
#include <algorithm>
#include <span>
#include <vector>

#include "model/decoder.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"
#include "ortlm/model.hpp"

namespace ortlm::test {

class SingleSequence {
 public:
  explicit SingleSequence(const Model& model) : runner_(model.decoder()), kv_(model.decoder().layout) {}
  int32_t vocab_size() const { return runner_.vocab_size(); }
  const model::IoLayout& layout() const { return runner_.layout(); }

  void begin(int32_t capacity) { kv_.reset(1, capacity); }
  // Feeds `ids` (in chunks of at most `chunk` tokens) and returns the last position's logits, valid
  // until the next call.
  std::span<const float> forward(std::span<const int32_t> ids, size_t chunk = 512) {
    model::ForwardBatch batch;
    batch.rows.resize(1);
    const model::Logits* logits = nullptr;
    for (size_t start = 0; start < ids.size(); start += chunk) {
      batch.rows[0].tokens = ids.subspan(start, std::min(chunk, ids.size() - start));
      logits = &runner_.run(batch, kv_);
    }
    return logits->at(0);
  }

 private:
  model::ModelRunner runner_;
  model::PaddedKvCache kv_;
};

inline int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// Greedy decoding of `prompt` alone for `steps` tokens: the logits of every step (the prompt's last
// position, then each new token's).
inline std::vector<std::vector<float>> greedy_logits(const Model& model, const std::vector<int32_t>& prompt,
                                                     size_t steps) {
  SingleSequence runner(model);
  runner.begin(static_cast<int32_t>(prompt.size() + steps));
  std::vector<std::vector<float>> out;
  auto logits = runner.forward(prompt);
  for (size_t i = 0; i < steps; ++i) {
    out.emplace_back(logits.begin(), logits.end());
    const int32_t next = argmax(logits);
    logits = runner.forward(std::span<const int32_t>(&next, 1));
  }
  return out;
}

}  // namespace ortlm::test
