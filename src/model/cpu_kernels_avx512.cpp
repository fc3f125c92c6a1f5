// The AVX-512F kernels of ortlm's operators: paged attention, SiluMul (built with -mavx512f; only called when
// the CPU has it).
#include "model/paged_attention_kernel.hpp"
#include "model/silu_mul_kernel.hpp"

#if defined(__x86_64__) && defined(__AVX512F__)
// GCC 12's AVX-512 intrinsics start from _mm512_undefined_ps(), which -Wmaybe-uninitialized reports
// wherever they are inlined (GCC bug 105593).
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include <immintrin.h>

#include "model/paged_attention_kernel_impl.hpp"
#include "model/silu_mul_kernel_impl.hpp"

namespace ortlm::model::paged {
namespace {

struct Avx512Ops {
  static constexpr int W = 16, kChunks = 4;
  using V = __m512;
  static V zero() { return _mm512_setzero_ps(); }
  static V set1(float x) { return _mm512_set1_ps(x); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V add(V a, V b) { return _mm512_add_ps(a, b); }
  static V mul(V a, V b) { return _mm512_mul_ps(a, b); }
  static V sub(V a, V b) { return _mm512_sub_ps(a, b); }
  static V div(V a, V b) { return _mm512_div_ps(a, b); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static V max(V a, V b) { return _mm512_max_ps(a, b); }
  static float reduce_add(V v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(V v) { return _mm512_reduce_max_ps(v); }
  // Lane i = the sum of acc[i]: each folded to 256 bits, then AVX2's tree for each half of the keys.
  static V sum_lanes(const V* a) {
    __m256 h[16];
    for (int i = 0; i < 16; ++i)
      h[i] = _mm256_add_ps(_mm512_castps512_ps256(a[i]),
                           _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(a[i]), 1)));
    const __m256 low = sum8(h), high = sum8(h + 8);
    return _mm512_castpd_ps(
        _mm512_insertf64x4(_mm512_castpd256_pd512(_mm256_castps_pd(low)), _mm256_castps_pd(high), 1));
  }
  static __m256 sum8(const __m256* a) {
    const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a[0], a[1]), _mm256_hadd_ps(a[2], a[3]));
    const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a[4], a[5]), _mm256_hadd_ps(a[6], a[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
  }
  // Cephes' expf, as in the AVX2 version.
  static V exp(V x) {
    x = _mm512_min_ps(_mm512_max_ps(x, set1(-87.3365f)), set1(88.3762f));
    const V n = _mm512_roundscale_ps(_mm512_mul_ps(x, set1(1.44269504088896341f)),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm512_fnmadd_ps(n, set1(0.693359375f), x);
    x = _mm512_fnmadd_ps(n, set1(-2.12194440e-4f), x);
    V y = set1(1.9875691500e-4f);
    y = _mm512_fmadd_ps(y, x, set1(1.3981999507e-3f));
    y = _mm512_fmadd_ps(y, x, set1(8.3334519073e-3f));
    y = _mm512_fmadd_ps(y, x, set1(4.1665795894e-2f));
    y = _mm512_fmadd_ps(y, x, set1(1.6666665459e-1f));
    y = _mm512_fmadd_ps(y, x, set1(5.0000001201e-1f));
    y = _mm512_fmadd_ps(y, _mm512_mul_ps(x, x), _mm512_add_ps(x, set1(1.0f)));
    const __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(y, _mm512_castsi512_ps(e));
  }
};

}  // namespace

void attend_avx512(const AttentionArgs& args, const AttentionWork& work, float* scratch) {
  impl::attend<Avx512Ops>(args, work, scratch);
}

}  // namespace ortlm::model::paged

namespace ortlm::model::kernels {
void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  impl::silu_mul<paged::Avx512Ops>(gate, up, out, n);
}
}  // namespace ortlm::model::kernels
#else
namespace ortlm::model::paged {
// Not an x86-64 build with AVX-512 flags: select_attend never picks this.
void attend_avx512(const AttentionArgs& args, const AttentionWork& work, float* scratch) {
  attend_scalar(args, work, scratch);
}
}  // namespace ortlm::model::paged
namespace ortlm::model::kernels {
void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n) {
  silu_mul_scalar(gate, up, out, n);
}
}  // namespace ortlm::model::kernels
#endif
