// The packed, paged forward path against the dense padded one (bench/paged_attention.sh prints it as a
// table): decode tokens/s at several batch sizes and contexts, and the paged attention kernel's share
// of a paged step.
//
// Usage: bench_paged MODEL_DIR [--contexts 512,2048] [--batches 16,4,1] [--steps 8] [--threads 0]
//          [--block-size 16] [--fusion auto|on|off]
// Prints one JSON object (stdout); progress goes to stderr. Exit status 1 on an error, 2 on bad usage.
//
// Per context C: one prompt of C ids (fewer when the model's context length leaves no room for the
// decode steps after it: `prefix`) is prefilled (chunks of 512) on both paths, timed: the dense path
// (model::ModelRunner + PaddedKvCache, the model as loaded) into row 0 of its cache, the paged path
// (model::PagedRunner over a KvBlockPool, the model's paged session) into blocks of row 0. Row 0 is
// then copied into every row (PaddedKvCache::reorder; block copies in the pool: each row has its own
// blocks, as distinct requests would), untimed. Then for each batch size B (largest first) the first B
// rows decode greedily `steps` tokens on both paths, one step of each in turn (which goes first
// alternates) after one untimed step, so machine load hits both alike. tokens_per_second = B x steps /
// wall time of the timed steps; kernel_share = time inside PagedAttention / paged step time. Every
// row's greedy ids on the two paths are compared (`ids_match`): both read the same KV.
// paged_session_seconds: building and verifying the paged session (rewrite, session, probe).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bench_args.hpp"
#include "model/decoder.hpp"
#include "model/kv_block_pool.hpp"
#include "model/model_runner.hpp"
#include "model/padded_kv_cache.hpp"
#include "model/paged_attention_op.hpp"
#include "model/paged_runner.hpp"
#include "model/paged_session.hpp"
#include "ortlm/error.hpp"
#include "ortlm/model.hpp"

using namespace ortlm;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

struct Args {
  std::string model_dir;
  std::vector<int> contexts{512, 2048};
  std::vector<int> batches{16, 4, 1};
  int steps = 8;
  int threads = 0;
  int block_size = 16;
  AttentionFusion fusion = AttentionFusion::automatic;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_paged MODEL_DIR [--contexts 512,2048] [--batches 16,4,1] [--steps 8] "
               "[--threads 0] [--block-size 16] [--fusion auto|on|off]\n",
               why);
  std::exit(2);
}

int integer(const std::string& text, const char* what, int least) {
  return bench::integer_arg(text, what, least, usage);
}

std::vector<int> int_list(const std::string& text, const char* what) {
  return bench::integer_list_arg(text, what, 1, usage);
}

Args parse(int argc, char** argv) {
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a[0] != '-') {
      args.model_dir = a;
      continue;
    }
    if (i + 1 >= argc) usage((a + " needs a value").c_str());
    const std::string v = argv[++i];
    if (a == "--contexts") {
      args.contexts = int_list(v, "--contexts");
    } else if (a == "--batches") {
      args.batches = int_list(v, "--batches");
      std::sort(args.batches.rbegin(), args.batches.rend());
    } else if (a == "--steps") {
      args.steps = integer(v, "--steps", 1);
    } else if (a == "--threads") {
      args.threads = integer(v, "--threads", 0);
    } else if (a == "--block-size") {
      args.block_size = integer(v, "--block-size", 1);
    } else if (a == "--fusion") {
      if (v != "auto" && v != "on" && v != "off") usage("--fusion is auto, on or off");
      args.fusion = v == "auto" ? AttentionFusion::automatic
                    : v == "on" ? AttentionFusion::always
                                : AttentionFusion::never;
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (args.model_dir.empty()) usage("no model folder");
  return args;
}

std::vector<int32_t> make_prompt(int length, int32_t vocab) {
  uint64_t state = 0x9E3779B97F4A7C15ull;
  std::vector<int32_t> ids(static_cast<size_t>(length));
  for (auto& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = 3 + static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(vocab - 3));
  }
  return ids;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

int32_t argmax(std::span<const float> logits) {
  return static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

constexpr int kChunk = 512;

// The paged side: a pool with `rows` rows of blocks, each row's table fixed (its own blocks).
struct PagedSide {
  model::KvBlockPool pool;
  model::PagedRunner runner;
  std::vector<std::vector<int32_t>> tables;
  std::vector<int32_t> cached;

  PagedSide(const Model& m, Ort::Session& session, int rows, int block_size, int capacity)
      : pool(m.decoder().layout, block_size, rows * ((capacity + block_size - 1) / block_size)),
        runner(session, m.decoder().layout, m.config().context_length, pool),
        tables(static_cast<size_t>(rows)),
        cached(static_cast<size_t>(rows), 0) {
    const int per_row = (capacity + block_size - 1) / block_size;
    for (int r = 0; r < rows; ++r)
      for (int b = 0; b < per_row; ++b) tables[static_cast<size_t>(r)].push_back(r * per_row + b);
  }

  // Row 0's first `tokens` positions copied into every other row's blocks.
  void replicate_row0(int tokens) {
    const int blocks = (tokens + pool.block_size() - 1) / pool.block_size();
    for (size_t r = 1; r < tables.size(); ++r) {
      for (size_t layer = 0; layer < pool.layers(); ++layer)
        for (int half = 0; half < 2; ++half)
          for (int b = 0; b < blocks; ++b)
            std::memcpy(pool.block(layer, half, tables[r][static_cast<size_t>(b)]),
                        pool.block(layer, half, tables[0][static_cast<size_t>(b)]), pool.block_bytes());
      cached[r] = tokens;
    }
  }
};

json run_context(const Model& m, Ort::Session& paged_session, const Args& args, int context) {
  const auto& layout = m.decoder().layout;
  const int rows = args.batches.front();
  // Row 0 decodes in every batch size: the prefix leaves room for all its steps.
  const int decoded = (args.steps + 1) * static_cast<int>(args.batches.size()) + 1;
  const int prefix = std::min(context, m.config().context_length - decoded);
  if (prefix < 1)
    throw Error("the model's context length " + std::to_string(m.config().context_length) +
                " leaves no room for a prefix and " + std::to_string(decoded) + " decode steps");
  const int capacity = prefix + decoded;
  const auto prompt = make_prompt(prefix, static_cast<int32_t>(layout.vocab_size));
  json out{{"context", context}, {"prefix", prefix}};
  context = prefix;

  // Prefill on both paths (row 0), then replicate row 0.
  model::ModelRunner dense(m.decoder());
  model::PaddedKvCache kv(layout);
  kv.reset(1, capacity, static_cast<size_t>(rows));
  PagedSide paged(m, paged_session, rows, args.block_size, capacity);
  int32_t first_dense = 0, first_paged = 0;
  auto t0 = Clock::now();
  for (int start = 0; start < context; start += kChunk) {
    model::ForwardBatch batch;
    const int n = std::min(kChunk, context - start);
    batch.rows = {{.tokens = std::span<const int32_t>(prompt).subspan(static_cast<size_t>(start),
                                                                      static_cast<size_t>(n))}};
    first_dense = argmax(dense.run(batch, kv).at(0));
  }
  const double dense_prefill = seconds_since(t0);
  t0 = Clock::now();
  for (int start = 0; start < context; start += kChunk) {
    const int n = std::min(kChunk, context - start);
    model::PagedBatch batch;
    batch.rows = {{.tokens = std::span<const int32_t>(prompt).subspan(static_cast<size_t>(start),
                                                                      static_cast<size_t>(n)),
                   .cached = start,
                   .blocks = paged.tables[0],
                   .logits = start + n == context ? model::LogitsWanted::last : model::LogitsWanted::none}};
    const auto& logits = paged.runner.run(batch);
    if (start + n == context) first_paged = argmax(logits.at(0));
  }
  const double paged_prefill = seconds_since(t0);
  paged.cached[0] = context;
  out["prefill"] = {{"tokens", context},
                    {"dense_tokens_per_second", context / dense_prefill},
                    {"paged_tokens_per_second", context / paged_prefill},
                    {"first_ids_match", first_dense == first_paged}};
  std::fprintf(stderr, "  context %d: prefill dense %.1f tok/s, paged %.1f tok/s\n", context,
               context / dense_prefill, context / paged_prefill);
  kv.reorder(std::vector<int32_t>(static_cast<size_t>(rows), 0));
  paged.replicate_row0(context);
  std::vector<int32_t> dense_next(static_cast<size_t>(rows), first_dense),
      paged_next(static_cast<size_t>(rows), first_paged);

  json results = json::array();
  bool all_match = first_dense == first_paged;
  for (int b : args.batches) {
    if (static_cast<int>(kv.rows()) != b) {
      std::vector<int32_t> keep(static_cast<size_t>(b));
      for (int r = 0; r < b; ++r) keep[static_cast<size_t>(r)] = r;
      kv.reorder(keep);
    }
    double dense_seconds = 0, paged_seconds = 0;
    uint64_t kernel_ns = 0;
    bool match = true;
    model::ForwardBatch dense_batch;
    model::PagedBatch paged_batch;
    dense_batch.rows.resize(static_cast<size_t>(b));
    paged_batch.rows.resize(static_cast<size_t>(b));
    for (int step = 0; step <= args.steps; ++step) {
      const bool timed = step > 0;
      auto dense_step = [&] {
        for (size_t r = 0; r < static_cast<size_t>(b); ++r)
          dense_batch.rows[r] = {.tokens = {&dense_next[r], 1}};
        const auto t = Clock::now();
        const auto& logits = dense.run(dense_batch, kv);
        if (timed) dense_seconds += seconds_since(t);
        for (size_t r = 0; r < static_cast<size_t>(b); ++r) dense_next[r] = argmax(logits.at(r));
      };
      auto paged_step = [&] {
        for (size_t r = 0; r < static_cast<size_t>(b); ++r)
          paged_batch.rows[r] = {
              .tokens = {&paged_next[r], 1}, .cached = paged.cached[r], .blocks = paged.tables[r]};
        const uint64_t k0 = model::paged_attention_nanoseconds();
        const auto t = Clock::now();
        const auto& logits = paged.runner.run(paged_batch);
        if (timed) {
          paged_seconds += seconds_since(t);
          kernel_ns += model::paged_attention_nanoseconds() - k0;
        }
        for (size_t r = 0; r < static_cast<size_t>(b); ++r) {
          paged_next[r] = argmax(logits.at(r));
          ++paged.cached[r];
        }
      };
      if (step % 2) {
        dense_step();
        paged_step();
      } else {
        paged_step();
        dense_step();
      }
      for (size_t r = 0; r < static_cast<size_t>(b); ++r) match = match && dense_next[r] == paged_next[r];
    }
    all_match = all_match && match;
    const double tokens = static_cast<double>(b) * args.steps;
    results.push_back({{"batch", b},
                       {"dense_tokens_per_second", tokens / dense_seconds},
                       {"paged_tokens_per_second", tokens / paged_seconds},
                       {"paged_over_dense", dense_seconds / paged_seconds},
                       {"kernel_share", static_cast<double>(kernel_ns) * 1e-9 / paged_seconds},
                       {"ids_match", match}});
    std::fprintf(stderr, "  context %d batch %d: dense %.1f tok/s, paged %.1f tok/s (kernel %.0f%%)\n",
                 context, b, tokens / dense_seconds, tokens / paged_seconds,
                 100.0 * static_cast<double>(kernel_ns) * 1e-9 / paged_seconds);
  }
  out["decode"] = results;
  out["ids_match"] = all_match;
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Args args = parse(argc, argv);
  try {
    SessionOptions options;
    options.intra_op_threads = args.threads;
    options.attention_fusion = args.fusion;
    const auto m = Model::load(args.model_dir, options);
    const auto t0 = Clock::now();
    auto paged = model::make_paged_session(*m);
    const double session_seconds = seconds_since(t0);
    if (!paged.session) throw Error("the model has no paged path: " + paged.note);
    json out{{"model", args.model_dir},
             {"dense", m->attention_fusion_note()},
             {"paged", paged.note},
             {"paged_session_seconds", session_seconds},
             {"kernel", model::paged_attention_isa(m->decoder().layout.head_size, args.block_size)},
             {"block_size", args.block_size},
             {"steps", args.steps}};
    json contexts = json::array();
    for (int c : args.contexts) contexts.push_back(run_context(*m, *paged.session, args, c));
    out["contexts"] = contexts;
    std::printf("%s\n", out.dump(2).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
