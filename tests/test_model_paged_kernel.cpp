// The paged attention kernel (src/model/paged_attention_kernel*): each implementation (scalar, AVX2,
// AVX-512, where the CPU has them) against a plain double-precision attention over the same keys and
// values laid out densely, with block tables out of order, grouped query heads, rows with cached
// tokens and several new ones (causal), tiles cut mid-row and head sizes that are not vector multiples.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "model/paged_attention_kernel.hpp"
#include "test_support.hpp"

namespace ortlm::model::paged {
namespace {

struct Case {
  int64_t heads, kv_heads, head_size, block_size;
  std::vector<int32_t> cached, count;  // per row
};

struct Fixture {
  Case c;
  std::vector<float> query, keys, values, dense_keys, dense_values;  // dense: [row][head][position][d]
  std::vector<int32_t> starts{0}, tables;
  int64_t width = 0, max_total = 0;

  explicit Fixture(const Case& cs, uint32_t seed) : c(cs) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    const size_t rows = c.cached.size();
    for (size_t r = 0; r < rows; ++r) {
      starts.push_back(starts.back() + c.count[r]);
      max_total = std::max<int64_t>(max_total, c.cached[r] + c.count[r]);
    }
    width = (max_total + c.block_size - 1) / c.block_size;
    // Every row's blocks, shuffled across the pool.
    const auto blocks = static_cast<int32_t>(rows * static_cast<size_t>(width));
    std::vector<int32_t> order(static_cast<size_t>(blocks));
    std::iota(order.begin(), order.end(), 0);
    std::shuffle(order.begin(), order.end(), rng);
    tables = order;
    const int64_t D = c.head_size, tokens = starts.back();
    query.resize(static_cast<size_t>(tokens * c.heads * D));
    for (auto& x : query) x = uniform(rng) * 3.0f;
    const size_t pool = static_cast<size_t>(blocks * c.kv_heads * c.block_size * D);
    keys.assign(pool, std::nanf(""));  // unused slots poison any read that should not happen
    values.assign(pool, std::nanf(""));
    dense_keys.resize(rows * static_cast<size_t>(c.kv_heads * max_total * D));
    dense_values.resize(dense_keys.size());
    for (size_t r = 0; r < rows; ++r)
      for (int64_t g = 0; g < c.kv_heads; ++g)
        for (int64_t p = 0; p < c.cached[r] + c.count[r]; ++p)
          for (int64_t d = 0; d < D; ++d) {
            const float k = uniform(rng), v = uniform(rng);
            const size_t dense = ((r * static_cast<size_t>(c.kv_heads) + static_cast<size_t>(g)) *
                                      static_cast<size_t>(max_total) +
                                  static_cast<size_t>(p)) *
                                     static_cast<size_t>(D) +
                                 static_cast<size_t>(d);
            dense_keys[dense] = k;
            dense_values[dense] = v;
            const int64_t block =
                tables[r * static_cast<size_t>(width) + static_cast<size_t>(p / c.block_size)];
            const size_t slot =
                static_cast<size_t>(((block * c.kv_heads + g) * c.block_size + p % c.block_size) * D + d);
            keys[slot] = k;
            values[slot] = v;
          }
  }

  AttentionArgs args(float* output) const {
    return {.query = query.data(),
            .output = output,
            .row_starts = starts.data(),
            .cached_lengths = c.cached.data(),
            .block_tables = tables.data(),
            .table_width = width,
            .keys = keys.data(),
            .values = values.data(),
            .heads = c.heads,
            .kv_heads = c.kv_heads,
            .head_size = c.head_size,
            .block_size = c.block_size,
            .scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(c.head_size)))};
  }

  // softmax(q k^T * scale) v in double over positions 0..p, straight from the dense copy.
  std::vector<double> reference() const {
    const int64_t D = c.head_size, group = c.heads / c.kv_heads;
    std::vector<double> out(query.size());
    const double scale = 1.0 / std::sqrt(static_cast<double>(D));
    for (size_t r = 0; r < c.cached.size(); ++r)
      for (int32_t i = 0; i < c.count[r]; ++i) {
        const int64_t token = starts[r] + i, position = c.cached[r] + i;
        for (int64_t h = 0; h < c.heads; ++h) {
          const int64_t g = h / group;
          const float* q = query.data() + (token * c.heads + h) * D;
          const size_t base = (r * static_cast<size_t>(c.kv_heads) + static_cast<size_t>(g)) *
                              static_cast<size_t>(max_total) * static_cast<size_t>(D);
          std::vector<double> w(static_cast<size_t>(position + 1));
          double most = -1e300, sum = 0;
          for (int64_t p = 0; p <= position; ++p) {
            double s = 0;
            for (int64_t d = 0; d < D; ++d)
              s += double{q[d]} * dense_keys[base + static_cast<size_t>(p * D + d)];
            w[static_cast<size_t>(p)] = s * scale;
            most = std::max(most, s * scale);
          }
          for (auto& x : w) sum += (x = std::exp(x - most));
          for (int64_t d = 0; d < D; ++d) {
            double acc = 0;
            for (int64_t p = 0; p <= position; ++p)
              acc += w[static_cast<size_t>(p)] * dense_values[base + static_cast<size_t>(p * D + d)];
            out[static_cast<size_t>((token * c.heads + h) * D + d)] = acc / sum;
          }
        }
      }
    return out;
  }

  std::vector<float> run(AttendFn attend) const {
    std::vector<float> out(query.size(), std::nanf(""));
    const AttentionArgs a = args(out.data());
    std::vector<float> scratch(scratch_floats(a));
    for (int32_t r = 0; r < static_cast<int32_t>(c.cached.size()); ++r)
      for (int32_t first = 0; first < c.count[static_cast<size_t>(r)]; first += kTileTokens)
        for (int32_t g = 0; g < static_cast<int32_t>(c.kv_heads); ++g)
          attend(a, {r, g, first, std::min(kTileTokens, c.count[static_cast<size_t>(r)] - first)},
                 scratch.data());
    return out;
  }
};

std::vector<std::pair<const char*, AttendFn>> implementations(int64_t head_size, int64_t block_size) {
  std::vector<std::pair<const char*, AttendFn>> out{{"scalar", attend_scalar}};
#if defined(__x86_64__)
  if (head_size % 8 == 0 && block_size % 8 == 0 && __builtin_cpu_supports("avx2") &&
      __builtin_cpu_supports("fma"))
    out.emplace_back("avx2", attend_avx2);
  if (head_size % 16 == 0 && block_size % 16 == 0 && __builtin_cpu_supports("avx512f"))
    out.emplace_back("avx512", attend_avx512);
#endif
  return out;
}

TEST(PagedAttentionKernel, EveryImplementationMatchesDenseAttention) {
  const std::vector<Case> cases{
      // Decode rows (one new token) over pasts ending anywhere in a block, 3 query heads per KV head.
      {9, 3, 64, 16, {0, 1, 15, 16, 17, 100}, {1, 1, 1, 1, 1, 1}},
      // Prefills longer than a tile, from nothing and after a cached past; chunk of a few; 5 queries
      // per KV head (a query block and one more).
      {10, 2, 16, 16, {0, 5, 40}, {37, 20, 3}},
      {4, 2, 32, 32, {0, 33}, {70, 6}},
      // The bundled model's geometry: head size 8 (AVX2 only), 2 query heads per KV head.
      {8, 4, 8, 8, {0, 9}, {12, 2}},
      // Blocks of 4 tokens: no vector width divides them (scalar only).
      {4, 2, 16, 4, {0, 5, 8}, {37, 20, 3}},
      // A head size no vector width divides (scalar only), no grouping, block size 1.
      {2, 2, 12, 1, {3, 0}, {2, 5}},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    const Fixture f(c, seed++);
    const auto expected = f.reference();
    for (const auto& [name, attend] : implementations(c.head_size, c.block_size)) {
      const auto actual = f.run(attend);
      double worst = 0;
      for (size_t i = 0; i < expected.size(); ++i)
        worst = std::max(worst, std::fabs(expected[i] - double{actual[i]}));
      EXPECT_LT(worst, 2e-5) << name << " head_size " << c.head_size << " block " << c.block_size;
    }
  }
}

TEST(PagedAttentionKernel, SelectionFollowsTheHeadSize) {
  const char* name = nullptr;
  select_attend(12, 16, &name);
  EXPECT_STREQ(name, "scalar");  // 12 floats: no AVX2 or AVX-512 multiple
  select_attend(64, 16, &name);
  EXPECT_STREQ(name, test::widest_isa());
}

}  // namespace
}  // namespace ortlm::model::paged
