#pragma once
// SiluMul written once over the vector "ops" types of model/cpu_kernels_*.cpp (see
// paged_attention_kernel_impl.hpp for the ops and why each instantiation stays internal).
#include <cstdint>

namespace ortlm::model::kernels::impl {

template <class O>
inline void silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  const typename O::V one = O::set1(1.0f), zero = O::zero();
  int64_t i = 0;
  for (; i + O::W <= n; i += O::W) {
    const typename O::V g = O::load(gate + i);
    // e^-g saturates (Ops::exp clamps its argument): g / (1 + e^-g) is then -0 or g, never NaN.
    const typename O::V sigmoid_denominator = O::add(one, O::exp(O::sub(zero, g)));
    O::store(out + i, O::mul(O::div(g, sigmoid_denominator), O::load(up + i)));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + __builtin_expf(-gate[i])) * up[i];
}

}  // namespace ortlm::model::kernels::impl
