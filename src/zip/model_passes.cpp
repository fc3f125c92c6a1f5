#include "zip/model_passes.hpp"

#include <algorithm>
#include <vector>

#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"

namespace ortlm::zip {

size_t effective_rows_per_pass(const model::Decoder& decoder, size_t requested) {
  return decoder.layout.padded_batches ? std::max<size_t>(1, requested) : 1;
}

void run_model_passes(const model::Decoder& decoder, std::span<const uint32_t> tokens, size_t rows_per_pass,
                      int32_t start_token, const PositionStep& step, const PassProgress& progress) {
  model::ModelRunner runner(decoder);
  model::PaddedKvCache kv(decoder.layout);
  const size_t rows = effective_rows_per_pass(decoder, rows_per_pass);
  model::ForwardBatch batch;
  // Per live row: the token it feeds next, its chunk, and the position its next logits predict.
  std::vector<int32_t> next(rows), kept;
  std::vector<size_t> chunk_of(rows);
  std::vector<uint32_t> position(rows);
  uint64_t done = 0;
  for (size_t first = 0; first < tokens.size(); first += rows) {
    size_t live = std::min(rows, tokens.size() - first);
    uint32_t longest = 0;
    for (size_t r = 0; r < live; ++r) {
      next[r] = start_token;
      chunk_of[r] = first + r;
      position[r] = 0;
      longest = std::max(longest, tokens[first + r]);
    }
    // A chunk of n tokens feeds the start token and its first n - 1: n columns of KV.
    kv.reset(live, longest);
    while (live > 0) {
      batch.rows.resize(live);
      for (size_t r = 0; r < live; ++r)
        batch.rows[r] = {std::span<const int32_t>(&next[r], 1), model::LogitsWanted::last};
      const model::Logits& logits = runner.run(batch, kv);
      kept.clear();
      for (size_t r = 0; r < live; ++r) {
        const int32_t token = step(chunk_of[r], position[r], logits.at(r));
        if (position[r] + 1 < tokens[chunk_of[r]]) {
          const size_t w = kept.size();  // <= r: compacting in place reads before it writes
          kept.push_back(static_cast<int32_t>(r));
          next[w] = token;
          chunk_of[w] = chunk_of[r];
          position[w] = position[r] + 1;
        }
      }
      done += live;
      if (!kept.empty() && kept.size() < live) kv.reorder(kept);
      live = kept.size();
      if (progress) progress(done);
    }
  }
}

}  // namespace ortlm::zip
