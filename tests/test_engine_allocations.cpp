// The decode loop allocates nothing per row: counting every operator new in the process during
// decode steps (ONNX Runtime's own included), 16 rows cost less than one allocation per extra row
// per step over 1 row. The model copy has no tokenizer: the detokenizer (Hugging Face's decoder
// pipeline builds piece strings) is outside this claim, as is ONNX Runtime's fixed cost per Run().
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "ortlm/engine.hpp"
#include "test_support.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define ORTLM_COUNTING_NEW 0  // ASan owns operator new
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ORTLM_COUNTING_NEW 0
#endif
#endif
#ifndef ORTLM_COUNTING_NEW
#define ORTLM_COUNTING_NEW 1
#endif

namespace {
std::atomic<long> allocations{0};
std::atomic<bool> counting{false};
}  // namespace

#if ORTLM_COUNTING_NEW
#if defined(__GNUC__) && !defined(__clang__)
// These replace the global operators as a pair: GCC, inlining them, sees malloc meet operator delete.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(size_t n) {
  if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
#endif

namespace ortlm {
namespace {

double allocations_per_step(const std::shared_ptr<Model>& model, int rows, KvCacheKind kv) {
  Engine engine(model, {.max_batch_rows = rows, .kv_cache = kv});
  GenerationOptions options;
  options.greedy = true;
  options.stop_at_eos = false;
  options.max_new_tokens = 200;
  const std::vector<int32_t> prompt{1, 403, 407, 261, 378};
  for (int i = 0; i < rows; ++i) engine.add_request(prompt, options);
  for (int i = 0; i < 20; ++i) engine.step();  // warm-up: buffers grow to size
  constexpr int kSteps = 100;
  allocations = 0;
  counting = true;
  for (int i = 0; i < kSteps; ++i) engine.step();
  counting = false;
  return static_cast<double>(allocations.load()) / kSteps;
}

class EngineAllocations : public ::testing::TestWithParam<KvCacheKind> {};

TEST_P(EngineAllocations, NonePerRowInTheDecodeLoop) {
  if (!ORTLM_COUNTING_NEW) GTEST_SKIP() << "operator new belongs to the sanitizer";
  const auto dir =
      std::filesystem::temp_directory_path() / ("ortlm-no-tokenizer-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::copy(test::bundled_model(), dir, std::filesystem::copy_options::recursive);
  for (const char* f : {"tokenizer.json", "tokenizer.model", "vocab.json"}) std::filesystem::remove(dir / f);
  const auto model = Model::load(dir);
  const double one = allocations_per_step(model, 1, GetParam());
  const double sixteen = allocations_per_step(model, 16, GetParam());
  RecordProperty("allocations_per_step_1_row", std::to_string(one));
  RecordProperty("allocations_per_step_16_rows", std::to_string(sixteen));
  EXPECT_LT(sixteen - one, 15.0) << "1 row: " << one << ", 16 rows: " << sixteen;
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Kinds, EngineAllocations, ::testing::Values(KvCacheKind::dense, KvCacheKind::paged),
                         [](const auto& info) {
                           return info.param == KvCacheKind::dense ? "dense" : "paged";
                         });

}  // namespace
}  // namespace ortlm
