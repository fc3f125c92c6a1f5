// The step-wise Engine's speed (bench/engine_batching.sh prints it as a table): prefill tokens/s,
// time to first token, decode tokens/s at several batch sizes, and ortlm's time per step beyond a
// bare ONNX Runtime loop on the same session.
//
// Usage: bench_engine MODEL_DIR [-n 64] [--prompt-length 128] [--prefill 128,512] [--batches 1,4,16]
//          [--overhead-batches 1,16] [--distinct 2] [--repeat 3] [--threads 0] [--fusion auto|on|off]
// Prints one JSON object (stdout); progress goes to stderr. Exit status 1 on an error, 2 on bad usage.
//
// - prefill: one request of P prompt ids, max_new_tokens 1, in an idle engine (max_batch_rows 1);
//   `seconds` is the wall time of the step() that prefills it (the forward pass over the prompt and
//   the first token's sampling), `ttft_ms` the time from add_request to the first on_token callback.
// - decode: B requests (prompt lengths equal, request i gets prompt i % distinct), greedy,
//   stop_at_eos false, n new tokens each, in an engine with max_batch_rows B. The batch sizes' engines
//   step in turn (one step of each, the first rotating), so machine load hits them alike. Each step() is
//   timed; steps in which a request received its first token are prefill steps, the others decode steps.
//   tokens_per_second = tokens delivered in decode steps / wall time of the decode steps.
//   Every row's ids are checked against a batch-1 run of its prompt (`ids_match_batch1`).
// - overhead: the engine and BareOrtLoop (bench/bare_ort_loop.hpp: the plainest loop of Run() calls,
//   ONNX Runtime allocating every output) decode the same B prompts on the same Ort::Session, one
//   step of each in turn (which goes first alternates), so both see the same machine load. Per step:
//   engine = wall time of Engine::step(); bare = the loop's whole step (inputs, Run, argmax);
//   run = time inside Session::Run of the bare step. The repeat with the lowest engine + bare median
//   is reported: medians of each, and the median of the per-step differences engine - bare.
// Every figure is the best of `repeat` runs (after an untimed warm-up), which filters out noise.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "bare_ort_loop.hpp"
#include "bench_args.hpp"
#include "model/decoder.hpp"
#include "ortlm/engine.hpp"
#include "ortlm/error.hpp"
#include "ortlm/model.hpp"

using namespace ortlm;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

struct Args {
  std::string model_dir;
  int new_tokens = 64;
  int prompt_length = 128;
  std::vector<int> prefill_lengths{128, 512};
  std::vector<int> batches{1, 4, 16};
  std::vector<int> overhead_batches{1, 16};
  int distinct = 2;
  int repeat = 3;
  int threads = 0;
  AttentionFusion fusion = AttentionFusion::automatic;
};

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_engine MODEL_DIR [-n 64] [--prompt-length 128] [--prefill 128,512] "
               "[--batches 1,4,16] [--overhead-batches 1,16] [--distinct 2] [--repeat 3] [--threads 0] "
               "[--fusion auto|on|off]\n",
               why);
  std::exit(2);
}

int positive(const char* text, const char* what, int least = 1) {
  return bench::integer_arg(text, what, least, usage);
}

// An empty list is allowed (none of that measurement).
std::vector<int> int_list(const char* text, const char* what, int least) {
  return *text ? bench::integer_list_arg(text, what, least, usage) : std::vector<int>{};
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
    const char* v = argv[++i];
    if (a == "-n") {
      args.new_tokens = positive(v, "-n", 2);
    } else if (a == "--prompt-length") {
      args.prompt_length = positive(v, "--prompt-length");
    } else if (a == "--prefill") {
      args.prefill_lengths = int_list(v, "--prefill", 1);
    } else if (a == "--batches") {
      args.batches = int_list(v, "--batches", 1);
    } else if (a == "--overhead-batches") {
      args.overhead_batches = int_list(v, "--overhead-batches", 1);
    } else if (a == "--distinct") {
      args.distinct = positive(v, "--distinct");
    } else if (a == "--repeat") {
      args.repeat = positive(v, "--repeat");
    } else if (a == "--threads") {
      args.threads = positive(v, "--threads", 0);
    } else if (a == "--fusion") {
      const std::string f = v;
      if (f == "auto") {
        args.fusion = AttentionFusion::automatic;
      } else if (f == "on") {
        args.fusion = AttentionFusion::always;
      } else if (f == "off") {
        args.fusion = AttentionFusion::never;
      } else {
        usage("--fusion is auto, on or off");
      }
    } else {
      usage(("unknown option " + a).c_str());
    }
  }
  if (args.model_dir.empty()) usage("no model folder");
  return args;
}

// Prompt `index` of `length` ids: a fixed pseudo-random sequence over the vocabulary's ids >= 3
// (past the usual special tokens), the same on every run.
std::vector<int32_t> make_prompt(int index, int length, int32_t vocab) {
  uint64_t state = 0x9E3779B97F4A7C15ull * static_cast<uint64_t>(index + 1);
  std::vector<int32_t> ids(static_cast<size_t>(length));
  const int32_t first = vocab > 3 ? 3 : 0;
  for (auto& id : ids) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    id = first + static_cast<int32_t>((state >> 33) % static_cast<uint64_t>(vocab - first));
  }
  return ids;
}

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

GenerationOptions greedy_options(int new_tokens) {
  GenerationOptions options;
  options.greedy = true;
  options.stop_at_eos = false;
  options.max_new_tokens = new_tokens;
  options.seed = 0;
  return options;
}

// B requests queued in an engine, with the bookkeeping of which step delivered what.
class Wave {
 public:
  Wave(Engine& engine, const std::vector<std::vector<int32_t>>& prompts, int rows, int new_tokens)
      : engine_(engine), ids_(static_cast<size_t>(rows)) {
    for (int r = 0; r < rows; ++r) {
      auto* ids = &ids_[static_cast<size_t>(r)];
      ids->reserve(static_cast<size_t>(new_tokens));
      requests_.push_back(engine.add_request(prompts[static_cast<size_t>(r) % prompts.size()],
                                             greedy_options(new_tokens),
                                             [this, ids](int32_t id, std::string_view) {
                                               if (id < 0) return true;  // text held back at the end
                                               if (ids->empty()) first_token_in_step_ = true;
                                               if (first_token_time_ == Clock::time_point{})
                                                 first_token_time_ = Clock::now();
                                               ids->push_back(id);
                                               ++tokens_in_step_;
                                               return true;
                                             }));
    }
  }

  Wave(const Wave&) = delete;  // the callbacks hold `this`
  Wave& operator=(const Wave&) = delete;

  // One Engine::step(), timed. Returns whether requests remain.
  bool step() {
    first_token_in_step_ = false;
    tokens_in_step_ = 0;
    const auto t0 = Clock::now();
    const bool more = engine_.step();
    last_seconds_ = seconds_since(t0);
    if (first_token_in_step_) {
      prefill_seconds_ += last_seconds_;
    } else {
      decode_seconds_ += last_seconds_;
      decode_tokens_ += tokens_in_step_;
      decode_step_seconds_.push_back(last_seconds_);
    }
    return more;
  }
  void finish() {
    while (step()) {
    }
    engine_.take_finished();
  }
  void abort_all() {
    for (RequestId id : requests_) engine_.abort(id);
  }

  double last_seconds() const { return last_seconds_; }
  double prefill_seconds() const { return prefill_seconds_; }
  double decode_seconds() const { return decode_seconds_; }
  int64_t decode_tokens() const { return decode_tokens_; }
  const std::vector<double>& decode_step_seconds() const { return decode_step_seconds_; }
  Clock::time_point first_token_time() const { return first_token_time_; }
  const std::vector<std::vector<int32_t>>& ids() const { return ids_; }

 private:
  Engine& engine_;
  std::vector<RequestId> requests_;
  std::vector<std::vector<int32_t>> ids_;
  bool first_token_in_step_ = false;
  int64_t tokens_in_step_ = 0;
  double last_seconds_ = 0, prefill_seconds_ = 0, decode_seconds_ = 0;
  int64_t decode_tokens_ = 0;
  std::vector<double> decode_step_seconds_;
  Clock::time_point first_token_time_{};
};

// A short untimed wave: allocates the engine's KV cache for `rows` x (prompt + n) and warms ONNX
// Runtime's arena for these shapes.
void warm_up(Engine& engine, const std::vector<std::vector<int32_t>>& prompts, int rows, int new_tokens) {
  Wave wave(engine, prompts, rows, new_tokens);
  for (int i = 0; i < 3 && wave.step(); ++i) {
  }
  wave.abort_all();
  wave.finish();
}

struct IdCheck {
  int64_t rows_checked = 0, rows_differing = 0;
  std::string first_difference;
  void compare(const std::vector<int32_t>& got, const std::vector<int32_t>& want, const std::string& what) {
    ++rows_checked;
    if (got == want) return;
    ++rows_differing;
    if (!first_difference.empty()) return;
    size_t i = 0;
    while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
    first_difference = what + ": first difference at new token " + std::to_string(i) + " (" +
                       (i < got.size() ? std::to_string(got[i]) : "end") + " vs " +
                       (i < want.size() ? std::to_string(want[i]) : "end") + ")";
  }
  json to_json() const {
    return {{"rows_checked", rows_checked},
            {"rows_differing", rows_differing},
            {"identical", rows_differing == 0},
            {"first_difference", first_difference}};
  }
};

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  SessionOptions session_options;
  session_options.intra_op_threads = args.threads;
  session_options.attention_fusion = args.fusion;
  const auto load_start = Clock::now();
  std::shared_ptr<Model> model = Model::load(args.model_dir, session_options);
  const double load_seconds = seconds_since(load_start);
  const ModelConfig& config = model->config();
  const int32_t vocab = static_cast<int32_t>(model->decoder().layout.vocab_size);
  const int32_t context = config.context_length;
  if (args.prompt_length + args.new_tokens > context)
    usage(("--prompt-length + -n exceed the context length " + std::to_string(context)).c_str());

  // Prompt ids stay inside the tokenizer's vocabulary too: the preset's logits are wider than its
  // (stories260k) tokenizer, and the engine detokenizes prompts.
  const int32_t prompt_vocab =
      model->tokenizer() ? std::min<int32_t>(vocab, static_cast<int32_t>(model->tokenizer()->vocab_size()))
                         : vocab;
  std::vector<std::vector<int32_t>> prompts;
  for (int k = 0; k < args.distinct; ++k) prompts.push_back(make_prompt(k, args.prompt_length, prompt_vocab));

  json out;
  out["model"] = args.model_dir;
  out["layers"] = config.num_layers;
  out["vocab_size"] = vocab;
  out["context_length"] = context;
  out["attention_fusion"] = model->attention_fusion_note();
  out["threads"] = args.threads;
  out["load_seconds"] = load_seconds;
  out["prompt_length"] = args.prompt_length;
  out["new_tokens"] = args.new_tokens;
  out["distinct_prompts"] = args.distinct;
  out["repeat"] = args.repeat;

  // Prefill and time to first token: one request at a time.
  {
    EngineOptions options;
    options.max_batch_rows = 1;
    Engine engine(model, options);
    json rows = json::array();
    for (int length : args.prefill_lengths) {
      if (length + 1 > context) {
        std::fprintf(stderr, "prefill %d: skipped (context %d)\n", length, context);
        rows.push_back(
            {{"tokens", length}, {"skipped", "over the context length " + std::to_string(context)}});
        continue;
      }
      const std::vector<std::vector<int32_t>> prompt{make_prompt(100 + length, length, prompt_vocab)};
      warm_up(engine, prompt, 1, 1);
      double best_step = 1e30, best_ttft = 1e30;
      std::vector<double> ttfts;
      for (int r = 0; r < args.repeat; ++r) {
        const auto added = Clock::now();
        Wave wave(engine, prompt, 1, 1);
        wave.step();
        const double ttft = std::chrono::duration<double>(wave.first_token_time() - added).count();
        best_step = std::min(best_step, wave.last_seconds());
        best_ttft = std::min(best_ttft, ttft);
        ttfts.push_back(ttft);
        wave.finish();
      }
      std::fprintf(stderr, "prefill %d: %.1f ms, ttft %.1f ms\n", length, 1e3 * best_step, 1e3 * best_ttft);
      rows.push_back({{"tokens", length},
                      {"seconds", best_step},
                      {"tokens_per_second", length / best_step},
                      {"ttft_ms", 1e3 * best_ttft},
                      {"ttft_ms_median", 1e3 * median(ttfts)}});
    }
    out["prefill"] = rows;
  }

  // One engine per batch size, kept across repeats (as a server keeps its engine).
  std::map<int, std::unique_ptr<Engine>> engines;
  auto engine_for = [&](int rows) -> Engine& {
    auto& e = engines[rows];
    if (!e) {
      EngineOptions options;
      options.max_batch_rows = rows;
      e = std::make_unique<Engine>(model, options);
      warm_up(*e, prompts, rows, args.new_tokens);
    }
    return *e;
  };

  // The batch-1 ids of every prompt: the reference each batched row must reproduce.
  std::vector<std::vector<int32_t>> reference;
  for (const auto& prompt : prompts) {
    Wave wave(engine_for(1), {prompt}, 1, args.new_tokens);
    wave.finish();
    reference.push_back(wave.ids()[0]);
  }
  out["reference_ids"] = reference;

  // Decode at each batch size. The batch sizes' waves run side by side, one step of each in turn
  // (which goes first rotates), so that the other processes of a shared machine slow them alike.
  struct Best {
    double tps = 0, seconds = 0, step_ms_median = 0, step_ms_first = 0, step_ms_last = 0, prefill_seconds = 0;
    int64_t tokens = 0, steps = 0;
  };
  std::map<int, Best> best;
  std::map<int, std::vector<double>> runs;
  std::map<int, IdCheck> checks;
  for (int b : args.batches) engine_for(b);
  for (int r = 0; r < args.repeat; ++r) {
    std::vector<std::unique_ptr<Wave>> waves;
    for (int b : args.batches)
      waves.push_back(std::make_unique<Wave>(engine_for(b), prompts, b, args.new_tokens));
    std::vector<bool> running(waves.size(), true);
    for (size_t turn = 0; std::find(running.begin(), running.end(), true) != running.end(); ++turn)
      for (size_t k = 0; k < waves.size(); ++k) {
        const size_t w = (turn + k) % waves.size();
        if (running[w]) running[w] = waves[w]->step();
      }
    for (size_t w = 0; w < waves.size(); ++w) {
      const int b = args.batches[w];
      Wave& wave = *waves[w];
      wave.finish();
      const double tps = static_cast<double>(wave.decode_tokens()) / wave.decode_seconds();
      runs[b].push_back(tps);
      std::fprintf(stderr, "decode batch %d, repeat %d: %.2f tok/s\n", b, r + 1, tps);
      for (int row = 0; row < b; ++row)
        checks[b].compare(wave.ids()[static_cast<size_t>(row)],
                          reference[static_cast<size_t>(row % args.distinct)],
                          "batch " + std::to_string(b) + " row " + std::to_string(row) + " vs batch 1");
      auto& kept = best[b];
      // The first and last quarter of the steps: how the step grows with the cache's width.
      const auto& steps = wave.decode_step_seconds();
      const size_t quarter = std::max<size_t>(steps.size() / 4, 1);
      if (tps > kept.tps)
        kept = {tps,
                wave.decode_seconds(),
                1e3 * median(steps),
                1e3 * median({steps.begin(), steps.begin() + static_cast<ptrdiff_t>(quarter)}),
                1e3 * median({steps.end() - static_cast<ptrdiff_t>(quarter), steps.end()}),
                wave.prefill_seconds(),
                wave.decode_tokens(),
                static_cast<int64_t>(steps.size())};
    }
  }
  json decode = json::array();
  for (int b : args.batches) {
    const auto& k = best[b];
    decode.push_back({{"batch", b},
                      {"requests", b},
                      {"decode_tokens", k.tokens},
                      {"decode_steps", k.steps},
                      {"seconds", k.seconds},
                      {"tokens_per_second", k.tps},
                      {"tokens_per_second_runs", runs[b]},
                      {"step_ms_mean", 1e3 * k.seconds / static_cast<double>(std::max<int64_t>(k.steps, 1))},
                      {"step_ms_median", k.step_ms_median},
                      {"step_ms_first_quarter", k.step_ms_first},
                      {"step_ms_last_quarter", k.step_ms_last},
                      {"prefill_seconds", k.prefill_seconds},
                      {"ids_match_batch1", checks[b].to_json()}});
  }
  out["decode"] = decode;

  // ortlm's time per step beyond a bare ONNX Runtime loop: same session, same prompts, steps alternating.
  const auto& decoder = model->decoder();
  json overhead = json::array();
  for (int b : args.overhead_batches) {
    std::vector<std::vector<int64_t>> bare_prompts;
    for (int row = 0; row < b; ++row) {
      const auto& p = prompts[static_cast<size_t>(row % args.distinct)];
      bare_prompts.emplace_back(p.begin(), p.end());
    }
    {  // warm-up for the bare loop's shapes
      bench::BareOrtLoop warm(decoder.session, decoder.layout, bare_prompts);
      for (int i = 0; i < 3; ++i) warm.step();
    }
    Engine& engine = engine_for(b);
    IdCheck engine_vs_bare;
    double best_sum = 1e30;
    json kept;
    for (int r = 0; r < args.repeat; ++r) {
      bench::BareOrtLoop bare(decoder.session, decoder.layout, bare_prompts);
      Wave wave(engine, prompts, b, args.new_tokens);
      std::vector<double> engine_steps, bare_steps, run_steps, differences;
      wave.step();  // the prefills, not compared
      bare.step();
      for (int s = 1; s < args.new_tokens; ++s) {
        double e = 0, x = 0;
        if (s % 2) {
          wave.step();
          e = wave.last_seconds();
          x = bare.step();
        } else {
          x = bare.step();
          wave.step();
          e = wave.last_seconds();
        }
        engine_steps.push_back(e);
        bare_steps.push_back(x);
        run_steps.push_back(bare.last_run_seconds());
        differences.push_back(e - x);
      }
      wave.finish();
      for (int row = 0; row < b; ++row) {
        const auto& bare_ids = bare.new_ids()[static_cast<size_t>(row)];
        engine_vs_bare.compare(
            wave.ids()[static_cast<size_t>(row)], std::vector<int32_t>(bare_ids.begin(), bare_ids.end()),
            "batch " + std::to_string(b) + " row " + std::to_string(row) + ": engine vs bare");
      }
      const double engine_ms = 1e3 * median(engine_steps), bare_ms = 1e3 * median(bare_steps);
      std::fprintf(stderr, "overhead batch %d, repeat %d: engine %.3f ms, bare %.3f ms per step\n", b, r + 1,
                   engine_ms, bare_ms);
      if (engine_ms + bare_ms < best_sum) {
        best_sum = engine_ms + bare_ms;
        double engine_total = 0, bare_total = 0;
        for (double v : engine_steps) engine_total += v;
        for (double v : bare_steps) bare_total += v;
        kept = {{"batch", b},
                {"steps", engine_steps.size()},
                {"engine_step_ms", engine_ms},
                {"bare_step_ms", bare_ms},
                {"bare_run_ms", 1e3 * median(run_steps)},
                {"overhead_us", 1e6 * median(differences)},
                {"engine_tokens_per_second", b * static_cast<double>(engine_steps.size()) / engine_total},
                {"bare_tokens_per_second", b * static_cast<double>(bare_steps.size()) / bare_total}};
      }
    }
    kept["ids_engine_vs_bare"] = engine_vs_bare.to_json();
    overhead.push_back(kept);
  }
  out["overhead"] = overhead;

  bool identical = true;
  for (const auto& [b, c] : checks) identical = identical && c.rows_differing == 0;
  for (const auto& o : overhead) identical = identical && o["ids_engine_vs_bare"]["identical"].get<bool>();
  out["ids_identical"] = identical;
  std::printf("%s\n", out.dump().c_str());
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "error: %s\n", e.what());
  return 1;
}
