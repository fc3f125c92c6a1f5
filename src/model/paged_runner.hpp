#pragma once
// One forward pass of the paged (packed, varlen) graph over a batch of rows whose KV lives in a
// KvBlockPool: every row's new tokens go in one [1, T] sequence, each row's cached tokens are read
// through its block table, the new keys and values are written into the blocks the table names, and
// only the logits asked for are computed. The inputs are built into buffers that grow to the largest
// batch and are reused: nothing allocates per step once warm (beyond ONNX Runtime's own tensors).
// Which block holds what is the caller's (the engine's block manager's) business: the runner is told
// each row's table and cached length every step and keeps no state about rows.
#include <onnxruntime_cxx_api.h>

#include <cstdint>
#include <span>
#include <vector>

#include "model/forward_batch.hpp"
#include "model/io_layout.hpp"
#include "model/kv_block_pool.hpp"

namespace ortlm::model {

struct PagedRow {
  std::span<const int32_t> tokens;  // new tokens, at positions cached, cached + 1, ... (may be empty)
  int32_t cached = 0;               // tokens of this row already in its blocks
  // The row's blocks in position order: position p is in blocks[p / block_size]. It must cover
  // cached + tokens.size() positions; the blocks the new tokens land in must be this row's own.
  std::span<const int32_t> blocks;
  LogitsWanted logits = LogitsWanted::last;
};

struct PagedBatch {
  std::vector<PagedRow> rows;
};

class PagedRunner {
 public:
  // `session` is a paged session (model/paged_session) of the model with `layout`.
  PagedRunner(Ort::Session& session, const IoLayout& layout, int32_t context_length, KvBlockPool& pool);

  // Writes each row's new keys and values into its blocks and returns the logits asked for (row r of
  // the result is batch row r). Throws ortlm::Error for an id outside the vocabulary, a row past the
  // context length, a batch without tokens, or a failed run (bad block tables: ONNX Runtime's message
  // names the row and block). The result stays valid until the next call.
  const Logits& run(const PagedBatch& batch);

  KvBlockPool& pool() const { return pool_; }

 private:
  void build(const PagedBatch& batch);

  Ort::Session& session_;
  const IoLayout& layout_;
  int32_t context_length_;
  KvBlockPool& pool_;
  Ort::MemoryInfo memory_;
  Ort::IoBinding binding_;
  Ort::RunOptions run_options_;
  // Inputs (ids and positions as the graph's integer type) and the logits, reused across steps.
  std::vector<int64_t> ids_, positions_, logits_index_;
  std::vector<int32_t> row_starts_, cached_, block_tables_;
  int64_t pool_handle_ = 0;
  int64_t tokens_ = 0, table_width_ = 0;
  std::vector<float> logits_raw_;  // [N, vocab]
  Logits logits_;
};

}  // namespace ortlm::model
