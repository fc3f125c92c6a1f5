#include "model/padded_kv_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "ortlm/error.hpp"

namespace ortlm::model {

PaddedKvCache::PaddedKvCache(const IoLayout& layout)
    : layout_(layout),
      tensors_per_set_(layout.kv.size() * (layout.kv_layout == KvLayout::combined ? 1 : 2)) {}

size_t PaddedKvCache::Shape::elements() const {
  size_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= static_cast<size_t>(dims[i]);
  return n;
}

PaddedKvCache::Shape PaddedKvCache::shape(size_t rows, int64_t width) const {
  const auto b = static_cast<int64_t>(rows);
  if (layout_.kv_layout == KvLayout::combined) return {{2, b, layout_.kv_heads, width, layout_.head_size}, 5};
  return {{b, layout_.kv_heads, width, layout_.head_size, 0}, 4};
}

namespace {

// a * b * ..., or nullopt when it overflows size_t (the sizes come from the graph's dims and the config).
std::optional<size_t> checked_product(std::initializer_list<size_t> factors) {
  size_t product = 1;
  for (size_t f : factors)
    if (__builtin_mul_overflow(product, f, &product)) return std::nullopt;
  return product;
}

}  // namespace

void PaddedKvCache::reset(size_t rows, int64_t capacity, size_t max_rows) {
  if (rows == 0 || capacity <= 0)
    throw Error("the KV cache needs at least one row and one column (got " + std::to_string(rows) + " x " +
                std::to_string(capacity) + ")");
  max_rows = std::max(rows, max_rows);
  const auto row_columns = checked_product({max_rows, static_cast<size_t>(capacity)});
  if (!row_columns || *row_columns > allocated_row_columns_) {
    if (layout_.kv_heads <= 0 || layout_.head_size <= 0)
      throw Error("the KV cache shape is unknown (" + std::to_string(layout_.kv_heads) + " heads of size " +
                  std::to_string(layout_.head_size) + ")");
    // Each tensor is rounded to 64 bytes so every tensor starts cache-line aligned.
    const auto tensor_bytes =
        row_columns
            ? checked_product({static_cast<size_t>(layout_.kv_heads), static_cast<size_t>(layout_.head_size),
                               element_size(layout_.kv_type), halves(), *row_columns})
            : std::nullopt;
    const auto stride = tensor_bytes && *tensor_bytes <= SIZE_MAX - 63
                            ? std::optional<size_t>((*tensor_bytes + 63) / 64 * 64)
                            : std::nullopt;
    const auto bytes = stride ? checked_product({*stride, tensors_per_set_}) : std::nullopt;
    // Two sets: the whole cache must stay addressable, so one set may take at most half of it.
    if (!bytes || *bytes > PTRDIFF_MAX / 2)
      throw Error("the KV cache for " + std::to_string(max_rows) + " rows of " + std::to_string(capacity) +
                  " tokens (" + std::to_string(layout_.kv.size()) + " layers x " +
                  std::to_string(layout_.kv_heads) + " heads x " + std::to_string(layout_.head_size) +
                  " head size) does not fit in memory");
    // Both sets allocated before either replaces the old ones: a failure leaves the cache as it was.
    Buffer fresh[2];
    for (auto& set : fresh) {
      set.data.reset(static_cast<std::byte*>(std::aligned_alloc(64, std::max<size_t>(*bytes, 64))));
      if (!set.data) throw Error("cannot allocate " + std::to_string(*bytes >> 20) + " MiB for the KV cache");
    }
    for (int i = 0; i < 2; ++i) sets_[i] = std::move(fresh[i]);
    tensor_stride_ = *stride;
    allocated_row_columns_ = *row_columns;
  }
  max_rows_ = max_rows;
  capacity_ = capacity;
  valid_.resize(*row_columns);
  scratch_valid_.resize(*row_columns);
  lengths_.resize(max_rows);
  scratch_lengths_.resize(max_rows);
  rows_ = rows;
  width_ = 0;
  current_ = 0;
  std::fill(lengths_.begin(), lengths_.end(), 0);
}

std::byte* PaddedKvCache::tensor_base(int set, size_t tensor) const {
  return sets_[set].data.get() + tensor * tensor_stride_;
}

void PaddedKvCache::bind(Ort::IoBinding& binding, const Ort::MemoryInfo& memory, int64_t new_columns) {
  if (width_ + new_columns > capacity_)
    throw Error("KV cache full: " + std::to_string(width_ + new_columns) + " columns > capacity " +
                std::to_string(capacity_));
  const auto past_shape = shape(rows_, width_);
  const auto present_shape = shape(rows_, width_ + new_columns);
  const size_t elem = element_size(layout_.kv_type);
  const int next = 1 - current_;
  size_t tensor = 0;
  auto bind_pair = [&](const std::string& past_name, const std::string& present_name) {
    binding.BindInput(
        past_name.c_str(),
        Ort::Value::CreateTensor(memory, tensor_base(current_, tensor), past_shape.elements() * elem,
                                 past_shape.dims.data(), past_shape.rank, layout_.kv_type));
    binding.BindOutput(
        present_name.c_str(),
        Ort::Value::CreateTensor(memory, tensor_base(next, tensor), present_shape.elements() * elem,
                                 present_shape.dims.data(), present_shape.rank, layout_.kv_type));
    ++tensor;
  };
  for (const auto& kv : layout_.kv) {
    bind_pair(kv.past_key, kv.present_key);
    if (layout_.kv_layout == KvLayout::separate) bind_pair(kv.past_value, kv.present_value);
  }
}

void PaddedKvCache::commit(std::span<const int32_t> new_tokens, int64_t new_columns) {
  const auto cap = static_cast<size_t>(capacity_);
  for (size_t r = 0; r < rows_; ++r) {
    const int64_t real = new_tokens[r];
    uint8_t* row = valid_.data() + r * cap;
    if (layout_.padding == Padding::left) {  // the new tokens are the pass's last columns
      uint8_t* flags = row + static_cast<size_t>(width_);
      std::fill(flags, flags + (new_columns - real), uint8_t{0});
      std::fill(flags + (new_columns - real), flags + new_columns, uint8_t{1});
    } else {  // each row's keys are a prefix of its own length
      std::fill(row, row + width_ + new_columns, uint8_t{0});
      std::fill(row, row + lengths_[r] + real, uint8_t{1});
    }
    lengths_[r] += real;
  }
  width_ += new_columns;
  current_ = 1 - current_;
}

void PaddedKvCache::reorder(std::span<const int32_t> source_rows) {
  for (int32_t s : source_rows)
    if (s < 0 || static_cast<size_t>(s) >= rows_)
      throw Error("KV reorder: row " + std::to_string(s) + " of " + std::to_string(rows_));
  if (source_rows.size() > max_rows_) throw Error("KV reorder: more rows than the cache was sized for");
  const size_t kept = source_rows.size();
  bool prefix = true;
  for (size_t r = 0; r < kept; ++r) prefix = prefix && source_rows[r] == static_cast<int32_t>(r);
  const auto cap = static_cast<size_t>(capacity_);
  // Dropping trailing rows of the separate layout leaves the kept rows where they are: no copy.
  if (!(prefix && halves() == 1) && width_ > 0) {
    const size_t row_bytes =
        static_cast<size_t>(layout_.kv_heads * width_ * layout_.head_size) * element_size(layout_.kv_type);
    const int next = 1 - current_;
    for (size_t t = 0; t < tensors_per_set_; ++t) {
      const std::byte* from = tensor_base(current_, t);
      std::byte* to = tensor_base(next, t);
      for (size_t h = 0; h < halves(); ++h)
        for (size_t r = 0; r < kept; ++r)
          std::memcpy(to + (h * kept + r) * row_bytes,
                      from + (h * rows_ + static_cast<size_t>(source_rows[r])) * row_bytes, row_bytes);
    }
    current_ = next;
  }
  for (size_t r = 0; r < kept; ++r) {
    const auto s = static_cast<size_t>(source_rows[r]);
    scratch_lengths_[r] = lengths_[s];
    std::memcpy(scratch_valid_.data() + r * cap, valid_.data() + s * cap, static_cast<size_t>(width_));
  }
  std::swap(lengths_, scratch_lengths_);
  std::swap(valid_, scratch_valid_);
  rows_ = kept;
}

}  // namespace ortlm::model
