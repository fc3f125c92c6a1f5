#pragma once
// The sequence of forward passes that the encoder and the decoder both run, written once so that
// they cannot differ: model chunks are taken in order, rows_per_pass at a time, as the rows of one
// batch; every pass feeds each row one token (first the start token, then the chunk's previous
// token) and yields the logits of its next position; a row leaves the batch (one KV gather of the
// rows that stay) as soon as its chunk's last token has its logits. The decoder knows every
// chunk's token count from the chunk table, so it mirrors the layout exactly: the same rows, in
// the same order, in passes of the same shapes, hence bit-identical logits on the same machine.
#include <cstdint>
#include <functional>
#include <span>

#include "model/decoder.hpp"

namespace ortlm::zip {

// Called for each position of each chunk, in pass order: the chunk (its index among `tokens`),
// the position in it, and the logits predicting that position. Returns the token at that
// position (the encoder knows it, the decoder decodes it), which the next pass feeds.
using PositionStep = std::function<int32_t(size_t chunk, uint32_t position, std::span<const float> logits)>;
// After each pass: tokens done so far.
using PassProgress = std::function<void(uint64_t tokens_done)>;

// `tokens[c]` = chunk c's token count (each 1 to the context length). Throws ortlm::Error when a
// pass fails (ONNX Runtime, memory) or a step throws.
void run_model_passes(const model::Decoder& decoder, std::span<const uint32_t> tokens, size_t rows_per_pass,
                      int32_t start_token, const PositionStep& step, const PassProgress& progress);

// The rows per pass a graph runs: 1 when it cannot batch padded rows, else `requested`.
size_t effective_rows_per_pass(const model::Decoder& decoder, size_t requested);

}  // namespace ortlm::zip
