// Int4MatMul (src/model/int4_matmul_*, src/model/cpu_kernels_avx512vnni.cpp, src/graph/passes/int4_matmul):
// each kernel implementation the CPU runs, on weights interleaved here from the layout the pass's
// header documents, against the product computed in double precision from the MatMulNBits weights
// unpacked independently (tests/nbits_unpack.hpp): in float, A as it is; in int8, A quantized per
// block as documented. Row counts and column counts cover the kernels' tiles and tails. The load-time
// rewrite of a quantized model is verified against ONNX Runtime's MatMulNBits, a wrong one is refused,
// and the operator names what is wrong with its inputs.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "model/int4_matmul_kernel.hpp"
#include "nbits_unpack.hpp"

namespace ortlm {
namespace {

using model::kernels::Int4MatMulArgs;
using model::kernels::Int4MatMulFn;

struct Implementation {
  const char* name;
  Int4MatMulFn int8, floats;
};

std::vector<Implementation> implementations() {
  std::vector<Implementation> out{
      {"scalar", model::kernels::int4_matmul_int8_scalar, model::kernels::int4_matmul_float_scalar}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512vnni"))
    out.push_back({"avx512vnni", model::kernels::int4_matmul_int8_avx512vnni,
                   model::kernels::int4_matmul_float_avx512vnni});
#endif
  return out;
}

// MatMulNBits's weights ([N, blocks, block / 2] levels, [N, blocks] scales, [N, ceil(blocks / 2)] zero
// points) and the same interleaved 16 columns at a time, as graph/passes/int4_matmul.hpp describes.
struct Weights {
  int64_t k, n, block;
  std::string packed, packed_zero_points;
  std::vector<float> scales;
  std::vector<uint8_t> levels, zero_points;  // interleaved
  std::vector<float> group_scales;           // interleaved
};

Weights random_weights(int64_t k, int64_t n, int64_t block, bool with_zero_points, std::mt19937& rng) {
  Weights w{k, n, block, {}, {}, {}, {}, {}, {}};
  const int64_t blocks = k / block, groups = (n + 15) / 16;
  w.packed.resize(static_cast<size_t>(n * k / 2));
  for (auto& b : w.packed) b = static_cast<char>(rng() & 0xFF);
  std::uniform_real_distribution<float> scale(0.001f, 0.1f);
  for (int64_t i = 0; i < n * blocks; ++i) w.scales.push_back(scale(rng));
  if (with_zero_points) {
    w.packed_zero_points.resize(static_cast<size_t>(n * ((blocks + 1) / 2)));
    for (auto& b : w.packed_zero_points) b = static_cast<char>(rng() & 0xFF);
  }
  const auto level = [&](int64_t col, int64_t row) {
    return col < n ? test::packed_value(w.packed, k / 2, col, row, 4) : 0;
  };
  w.levels.assign(static_cast<size_t>(groups * k * 8), 0);
  for (int64_t g = 0; g < groups; ++g)
    for (int64_t s = 0; s < k / 8; ++s)
      for (int64_t c = 0; c < 16; ++c)
        for (int64_t j = 0; j < 4; ++j)
          w.levels[static_cast<size_t>((g * (k / 8) + s) * 64 + c * 4 + j)] =
              static_cast<uint8_t>(level(g * 16 + c, s * 8 + j) | (level(g * 16 + c, s * 8 + 4 + j) << 4));
  w.group_scales.assign(static_cast<size_t>(groups * blocks * 16), 0.0f);
  w.zero_points.assign(w.group_scales.size(), 0);
  for (int64_t col = 0; col < n; ++col)
    for (int64_t b = 0; b < blocks; ++b) {
      const auto at = static_cast<size_t>(((col / 16) * blocks + b) * 16 + col % 16);
      w.group_scales[at] = w.scales[static_cast<size_t>(col * blocks + b)];
      if (with_zero_points)
        w.zero_points[at] =
            static_cast<uint8_t>(test::packed_value(w.packed_zero_points, (blocks + 1) / 2, col, b, 4));
    }
  return w;
}

// A quantized per block the way the header documents (max |a| / 127, round half to even).
std::vector<float> int8_rounded(const std::vector<float>& a, int64_t block) {
  std::vector<float> out(a.size());
  for (size_t start = 0; start < a.size(); start += static_cast<size_t>(block)) {
    float amax = 0;
    for (int64_t i = 0; i < block; ++i) amax = std::max(amax, std::fabs(a[start + static_cast<size_t>(i)]));
    for (int64_t i = 0; i < block; ++i) {
      const size_t at = start + static_cast<size_t>(i);
      out[at] = amax == 0 ? 0.0f : std::nearbyint(a[at] * (127.0f / amax)) * (amax / 127.0f);
    }
  }
  return out;
}

TEST(Int4MatMulKernel, EveryImplementationMatchesDoublePrecision) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> uniform(-2.0f, 2.0f);
  struct Case {
    int64_t rows, k, n, block;
    bool zero_points;
  };
  // Rows: one (a decode step), tiles of 4 and their remainders; columns: 1 to 5+ groups, with tails.
  for (const Case& c : {Case{1, 64, 16, 32, true}, Case{1, 96, 37, 32, false}, Case{1, 128, 80, 16, true},
                        Case{2, 64, 69, 64, true}, Case{3, 32, 16, 8, true}, Case{4, 64, 33, 32, false},
                        Case{6, 128, 100, 128, true}, Case{9, 48, 21, 16, true}}) {
    const Weights w = random_weights(c.k, c.n, c.block, c.zero_points, rng);
    const auto dequantized = test::unpack_blocks(w.packed, c.k / 2, w.scales.data(), w.packed_zero_points,
                                                 c.n, c.k, 4, static_cast<int>(c.block));  // [N, K]
    std::vector<float> a(static_cast<size_t>(c.rows * c.k));
    for (auto& x : a) x = uniform(rng);
    a[0] = 0.0f;
    const auto a_int8 = int8_rounded(a, c.block);
    const int64_t blocks = c.k / c.block, groups = (c.n + 15) / 16;
    std::vector<int8_t> a_levels(a.size());
    std::vector<float> a_scales(static_cast<size_t>(c.rows * blocks)), level_sums(a_scales.size()),
        sums(a_scales.size());
    model::kernels::quantize_rows_int8(a.data(), c.rows, c.k, c.block, a_levels.data(), a_scales.data(),
                                       level_sums.data());
    model::kernels::block_sums(a.data(), c.rows, c.k, c.block, sums.data());
    for (const auto& impl : implementations()) {
      for (const bool int8 : {false, true}) {
        std::vector<float> out(static_cast<size_t>(c.rows * c.n), std::nanf(""));
        Int4MatMulArgs args{.rows = c.rows,
                            .k = c.k,
                            .n = c.n,
                            .block = c.block,
                            .levels = w.levels.data(),
                            .scales = w.group_scales.data(),
                            .zero_points = c.zero_points ? w.zero_points.data() : nullptr,
                            .a_levels = int8 ? a_levels.data() : nullptr,
                            .a_scales = int8 ? a_scales.data() : nullptr,
                            .a = int8 ? nullptr : a.data(),
                            .a_sums = int8 ? level_sums.data() : sums.data(),
                            .out = out.data()};
        // In two calls, as threads split the groups.
        (int8 ? impl.int8 : impl.floats)(args, 0, groups / 2);
        (int8 ? impl.int8 : impl.floats)(args, groups / 2, groups);
        const auto& x = int8 ? a_int8 : a;
        for (int64_t r = 0; r < c.rows; ++r)
          for (int64_t col = 0; col < c.n; ++col) {
            double expected = 0, magnitude = 0;
            for (int64_t kk = 0; kk < c.k; ++kk) {
              const double term = static_cast<double>(x[static_cast<size_t>(r * c.k + kk)]) *
                                  dequantized[static_cast<size_t>(col * c.k + kk)];
              expected += term;
              magnitude += std::fabs(term);
            }
            ASSERT_NEAR(out[static_cast<size_t>(r * c.n + col)], expected, 1e-5 * (1.0 + magnitude))
                << impl.name << (int8 ? " int8" : " float") << " rows " << c.rows << " k " << c.k << " n "
                << c.n << " block " << c.block << " row " << r << " column " << col;
          }
      }
    }
  }
}

TEST(Int4MatMulKernel, SelectionFollowsTheCpu) {
  bool fast = false;
  const auto kernels = model::kernels::select_int4_matmul(&fast);
  EXPECT_STREQ(kernels.name, implementations().back().name);
  EXPECT_EQ(fast, implementations().size() > 1);
}

}  // namespace
}  // namespace ortlm
