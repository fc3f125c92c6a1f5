// The scalar kernels of ortlm's operators (the reference the vector ones are tested against), and the
// run-time choice among the three builds.
#include "model/paged_attention_kernel.hpp"
#include "model/paged_attention_kernel_impl.hpp"
#include "model/silu_mul_kernel.hpp"
#include "model/silu_mul_kernel_impl.hpp"

namespace ortlm::model::paged {
namespace {

// One lane: the reference the vector versions are tested against, and the fallback for head sizes
// that are not a multiple of 8.
struct ScalarOps {
  static constexpr int W = 1, kChunks = 4;
  using V = float;
  static V zero() { return 0.0f; }
  static V set1(float x) { return x; }
  static V load(const float* p) { return *p; }
  static void store(float* p, V v) { *p = v; }
  static V add(V a, V b) { return a + b; }
  static V mul(V a, V b) { return a * b; }
  static V sub(V a, V b) { return a - b; }
  static V div(V a, V b) { return a / b; }
  static V fma(V a, V b, V c) { return a * b + c; }
  static V max(V a, V b) { return a > b ? a : b; }
  static float reduce_add(V v) { return v; }
  static float reduce_max(V v) { return v; }
  static V exp(V v) { return __builtin_expf(v); }
  static V sum_lanes(const V* acc) { return acc[0]; }
};

}  // namespace

void attend_scalar(const AttentionArgs& args, const AttentionWork& work, float* scratch) {
  impl::attend<ScalarOps>(args, work, scratch);
}

AttendFn select_attend(int64_t head_size, int64_t block_size, const char** name) {
  auto chosen = [&](AttendFn fn, const char* what) {
    if (name) *name = what;
    return fn;
  };
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (head_size % 16 == 0 && block_size % 16 == 0 && __builtin_cpu_supports("avx512f"))
    return chosen(attend_avx512, "avx512");
  if (head_size % 8 == 0 && block_size % 8 == 0 && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    return chosen(attend_avx2, "avx2");
#else
  (void)head_size;
  (void)block_size;
#endif
  return chosen(attend_scalar, "scalar");
}

}  // namespace ortlm::model::paged

namespace ortlm::model::kernels {

void silu_mul_scalar(const float* gate, const float* up, float* out, int64_t n) {
  impl::silu_mul<paged::ScalarOps>(gate, up, out, n);
}

SiluMulFn select_silu_mul(const char** name) {
  auto chosen = [&](SiluMulFn fn, const char* what) {
    if (name) *name = what;
    return fn;
  };
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return chosen(silu_mul_avx512, "avx512");
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return chosen(silu_mul_avx2, "avx2");
#endif
  return chosen(silu_mul_scalar, "scalar");
}

}  // namespace ortlm::model::kernels
