// ONNX Runtime's MatMulNBits (MLAS) against ortlm.Int4MatMul on the same 4-bit matrix, in the same
// process and run (bench/int4_matmul.sh prints it as a table): milliseconds per product for several
// row counts and thread counts. Both run as one-node ONNX Runtime sessions, so both pay the same
// dispatch; the Int4MatMul session is the model rewritten by graph/passes/int4_matmul.
//
// Usage: bench_int4_matmul MODEL.onnx [--rows 1,4,16,64,256] [--threads 1,2] [--seconds 0.3]
//   MODEL.onnx: one MatMulNBits node (4 bits, accuracy_level 4) reading input "A" [M, K].
// Prints one JSON object (stdout). Exit status 1 on an error, 2 on bad usage.
//
// Per thread count and row count: A is random in [-1, 1); each session runs once untimed, then the two
// take turns, each timed over at least `seconds` of calls, three turns each; the best mean per call
// is kept. max_difference: the largest |difference| of the two outputs relative to the largest
// |output| (int8 activations on both sides: ~1e-3, a wrong layout is ~1).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "bench_args.hpp"
#include "graph/onnx_graph.hpp"
#include "graph/passes/int4_matmul.hpp"
#include "model/custom_ops.hpp"
#include "model/ort_session.hpp"

namespace {

using namespace ortlm;

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "error: %s\nusage: bench_int4_matmul MODEL.onnx [--rows 1,4,16,64,256] [--threads 1,2] "
               "[--seconds 0.3]\n",
               why);
  std::exit(2);
}

struct Timed {
  double ms = 1e300;
  std::vector<float> output;
};

void time_calls(Ort::Session& session, Ort::Value& a, double seconds, Timed& timed) {
  const char* input = "A";
  const char* output = "Y";
  int calls = 0;
  const auto start = std::chrono::steady_clock::now();
  double elapsed = 0;
  std::vector<Ort::Value> out;
  while (elapsed < seconds || calls < 3) {
    out = session.Run(Ort::RunOptions{nullptr}, &input, &a, 1, &output, 1);
    ++calls;
    elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  }
  timed.ms = std::min(timed.ms, elapsed * 1e3 / calls);
  const auto count = out[0].GetTensorTypeAndShapeInfo().GetElementCount();
  const float* data = out[0].GetTensorData<float>();
  timed.output.assign(data, data + count);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') usage("no model file");
  std::vector<int> rows{1, 4, 16, 64, 256}, threads{1, 2};
  double seconds = 0.3;
  for (int i = 2; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage((flag + " needs a value").c_str());
    const std::string value = argv[i + 1];
    if (flag == "--rows") {
      rows = bench::integer_list_arg(value, "--rows", 1, usage);
    } else if (flag == "--threads") {
      threads = bench::integer_list_arg(value, "--threads", 1, usage);
    } else if (flag == "--seconds") {
      char* end = nullptr;
      seconds = std::strtod(value.c_str(), &end);
      if (*end || end == value.c_str() || !(seconds >= 0)) usage("--seconds must be a number >= 0");
    } else {
      usage(("unknown option " + flag).c_str());
    }
  }
  try {
    const std::filesystem::path path = argv[1];
    const auto graph = graph::OnnxGraph::load(path);
    const auto plan = graph::plan_int4_matmuls(graph);
    if (plan.matmuls != 1) throw std::runtime_error("expected one 4-bit MatMulNBits: " + plan.why_not);
    const auto& node = plan.edit.added.front();
    const int64_t k = *node.attribute("K")->i, n = *node.attribute("N")->i;
    const std::string rewritten = graph.serialize(plan.edit);
    nlohmann::json result{
        {"k", k}, {"n", n}, {"block", *node.attribute("block_size")->i}, {"runs", nlohmann::json::array()}};
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
    for (const int t : threads) {
      SessionOptions options;
      options.intra_op_threads = t;
      Ort::Session mlas = model::create_session(path, options);
      Ort::Session ours = model::create_session_from_bytes(rewritten, path, options, model::add_ortlm_ops);
      for (const int m : rows) {
        std::vector<float> a(static_cast<size_t>(m * k));
        for (auto& x : a) x = uniform(rng);
        const std::vector<int64_t> shape{m, k};
        Ort::Value input = Ort::Value::CreateTensor(memory, a.data(), a.size(), shape.data(), shape.size());
        Timed reference, candidate;
        time_calls(mlas, input, 0, reference);
        time_calls(ours, input, 0, candidate);
        for (int turn = 0; turn < 3; ++turn) {
          time_calls(mlas, input, seconds, reference);
          time_calls(ours, input, seconds, candidate);
        }
        double scale = 1e-30, worst = 0;
        for (float y : reference.output) scale = std::max(scale, static_cast<double>(std::fabs(y)));
        for (size_t i = 0; i < reference.output.size(); ++i)
          worst = std::max(worst,
                           std::fabs(static_cast<double>(reference.output[i]) - candidate.output[i]) / scale);
        result["runs"].push_back({{"threads", t},
                                  {"rows", m},
                                  {"matmulnbits_ms", reference.ms},
                                  {"int4matmul_ms", candidate.ms},
                                  {"max_difference", worst}});
        std::fprintf(stderr, "threads %d rows %d: MatMulNBits %.3f ms, Int4MatMul %.3f ms\n", t, m,
                     reference.ms, candidate.ms);
      }
    }
    std::printf("%s\n", result.dump().c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
