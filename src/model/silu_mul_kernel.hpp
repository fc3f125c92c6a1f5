#pragma once
// The arithmetic of the SiluMul operator (model/silu_mul_op): out = silu(gate) * up = gate / (1 +
// e^-gate) * up, elementwise; the gated MLP's activation (SwiGLU). Compiled three times like the
// paged attention kernel (model/cpu_kernels_*.cpp) and chosen at run time by what the CPU supports.
#include <cstdint>

namespace ortlm::model::kernels {

using SiluMulFn = void (*)(const float* gate, const float* up, float* out, int64_t n);

void silu_mul_scalar(const float* gate, const float* up, float* out, int64_t n);
void silu_mul_avx2(const float* gate, const float* up, float* out, int64_t n);
void silu_mul_avx512(const float* gate, const float* up, float* out, int64_t n);

// The fastest implementation this CPU runs, and its name ("avx512", "avx2", "scalar").
SiluMulFn select_silu_mul(const char** name = nullptr);

}  // namespace ortlm::model::kernels
