// The AVX2 + FMA kernels of ortlm's operators: paged attention, SiluMul (built with -mavx2 -mfma; only called
// when the CPU has both).
#include "model/paged_attention_kernel.hpp"
#include "model/silu_mul_kernel.hpp"

#if defined(__x86_64__) && defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>

#include "model/paged_attention_kernel_impl.hpp"
#include "model/silu_mul_kernel_impl.hpp"

namespace ortlm::model::paged {
namespace {

struct Avx2Ops {
  static constexpr int W = 8, kChunks = 2;
  using V = __m256;
  static V zero() { return _mm256_setzero_ps(); }
  static V set1(float x) { return _mm256_set1_ps(x); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm256_add_ps(a, b); }
  static V mul(V a, V b) { return _mm256_mul_ps(a, b); }
  static V sub(V a, V b) { return _mm256_sub_ps(a, b); }
  static V div(V a, V b) { return _mm256_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm256_max_ps(a, b); }
  static float reduce_add(V v) {
    __m128 x = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_add_ps(x, _mm_movehl_ps(x, x));
    x = _mm_add_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
  static float reduce_max(V v) {
    __m128 x = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    x = _mm_max_ps(x, _mm_movehl_ps(x, x));
    x = _mm_max_ss(x, _mm_movehdup_ps(x));
    return _mm_cvtss_f32(x);
  }
  // Lane i = the sum of acc[i]: two rounds of pairwise sums, then the 128-bit halves.
  static V sum_lanes(const V* a) {
    const V u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const V u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
  }
  // Cephes' expf: e^x = 2^n * e^r with |r| <= ln2/2, r's polynomial of degree 6 (~1 ulp).
  static V exp(V x) {
    x = _mm256_min_ps(_mm256_max_ps(x, set1(-87.3365f)), set1(88.3762f));
    const V n = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504088896341f)),
                                _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(n, set1(0.693359375f), x);
    x = _mm256_fnmadd_ps(n, set1(-2.12194440e-4f), x);
    V y = set1(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, set1(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, set1(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, set1(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, set1(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, set1(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, set1(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
  }
};

}  // namespace

void attend_avx2(const AttentionArgs& args, const AttentionWork& work, float* scratch) {
  impl::attend<Avx2Ops>(args, work, scratch);
}

}  // namespace ortlm::model::paged

namespace ortlm::model::kernels {
void silu_mul_avx2(const float* gate, const float* up, float* out, int64_t n) {
  impl::silu_mul<paged::Avx2Ops>(gate, up, out, n);
}
}  // namespace ortlm::model::kernels
#else
namespace ortlm::model::paged {
// Not an x86-64 build with AVX2 flags: select_attend never picks this.
void attend_avx2(const AttentionArgs& args, const AttentionWork& work, float* scratch) {
  attend_scalar(args, work, scratch);
}
}  // namespace ortlm::model::paged
namespace ortlm::model::kernels {
void silu_mul_avx2(const float* gate, const float* up, float* out, int64_t n) {
  silu_mul_scalar(gate, up, out, n);
}
}  // namespace ortlm::model::kernels
#endif
