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

size_t PaddedKvCache::allocate(std::array<Buffer, 2>& sets, std::optional<size_t> row_columns,
                               size_t max_rows, int64_t capacity) const {
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
  for (auto& set : sets) {
    set.data.reset(static_cast<std::byte*>(std::aligned_alloc(64, std::max<size_t>(*bytes, 64))));
    if (!set.data) throw Error("cannot allocate " + std::to_string(*bytes >> 20) + " MiB for the KV cache");
  }
  return *stride;
}

void PaddedKvCache::reset(size_t rows, int64_t capacity, size_t max_rows) {
  if (rows == 0 || capacity <= 0)
    throw Error("the KV cache needs at least one row and one column (got " + std::to_string(rows) + " x " +
                std::to_string(capacity) + ")");
  max_rows = std::max(rows, max_rows);
  const auto row_columns = checked_product({max_rows, static_cast<size_t>(capacity)});
  if (!row_columns || *row_columns > allocated_row_columns_) {
    std::array<Buffer, 2> fresh;
    tensor_stride_ = allocate(fresh, row_columns, max_rows, capacity);
    for (int i = 0; i < 2; ++i) sets_[i] = std::move(fresh[static_cast<size_t>(i)]);
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
  reserve(rows_, width_ + new_columns);
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
  const size_t kept = source_rows.size();
  reserve(kept, width_);
  const auto cap = static_cast<size_t>(capacity_);
  // Columns no kept row needs any more: leading padding of every row (left), or beyond the longest
  // row (right). Without dropping them a server that is never idle would widen its rows forever.
  int64_t first = width_, end = 0;
  for (int32_t s : source_rows) {
    const uint8_t* flags = valid_.data() + static_cast<size_t>(s) * cap;
    const auto* valid = std::find(flags, flags + width_, uint8_t{1});
    first = std::min<int64_t>(first, valid - flags);
    end = std::max(end, layout_.padding == Padding::left ? width_ : lengths_[static_cast<size_t>(s)]);
  }
  if (layout_.padding == Padding::right || first == width_) first = 0;
  if (layout_.padding == Padding::left && end == 0) end = width_;
  const int64_t width = end - first;
  bool prefix = true;
  for (size_t r = 0; r < kept; ++r) prefix = prefix && source_rows[r] == static_cast<int32_t>(r);
  // Dropping trailing rows of the separate layout leaves the kept rows where they are: no copy,
  // unless a quarter of the columns (at least 16) is padding nobody needs.
  const bool worth_trimming = width_ - width >= std::max<int64_t>(16, width_ / 4);
  if (width_ > 0 && (!(prefix && halves() == 1) || worth_trimming)) {
    const int next = 1 - current_;
    for (size_t r = 0; r < kept; ++r)
      copy_row(*this, rows_, static_cast<size_t>(source_rows[r]), next, kept, width, r, -first, first, width);
    current_ = next;
  } else {
    first = 0;
    end = width_;
  }
  const int64_t new_width = end - first;
  for (size_t r = 0; r < kept; ++r) {
    const auto s = static_cast<size_t>(source_rows[r]);
    scratch_lengths_[r] = lengths_[s];
    std::memcpy(scratch_valid_.data() + r * cap, valid_.data() + s * cap + first,
                static_cast<size_t>(new_width));
  }
  std::swap(lengths_, scratch_lengths_);
  std::swap(valid_, scratch_valid_);
  rows_ = kept;
  width_ = new_width;
}

// --- Rows changing between passes -------------------------------------------------------------

void PaddedKvCache::clear() {
  rows_ = 0;
  width_ = 0;
}

size_t PaddedKvCache::head_bytes() const {
  return static_cast<size_t>(layout_.head_size) * element_size(layout_.kv_type);
}

std::byte* PaddedKvCache::at(int set, size_t tensor, size_t half, size_t rows, int64_t width, size_t row,
                             int64_t head, int64_t column) const {
  const size_t index =
      ((half * rows + row) * static_cast<size_t>(layout_.kv_heads) + static_cast<size_t>(head)) *
          static_cast<size_t>(width) +
      static_cast<size_t>(column);
  return tensor_base(set, tensor) + index * head_bytes();
}

std::byte* PaddedKvCache::pool_slot(const KvBlockPool& pool, size_t tensor, size_t half, int32_t block,
                                    int64_t head, int64_t offset) const {
  // Separate layout: tensors are bound key, value, key, value... per layer; combined: one per layer.
  const size_t layer = halves() == 2 ? tensor : tensor / 2;
  const int pool_half = static_cast<int>(halves() == 2 ? half : tensor % 2);
  return pool.slot(layer, pool_half, block, head, offset);
}

void PaddedKvCache::reserve(size_t rows, int64_t columns) {
  if (rows <= max_rows_ && columns <= capacity_) return;
  const size_t new_rows = std::max(rows, max_rows_);
  const int64_t new_capacity =
      columns <= capacity_ ? capacity_ : std::max(columns, capacity_ + capacity_ / 2);
  const auto row_columns = checked_product({new_rows, static_cast<size_t>(new_capacity)});
  if (!row_columns || *row_columns > allocated_row_columns_) {
    std::array<Buffer, 2> fresh;
    const size_t stride = allocate(fresh, row_columns, new_rows, new_capacity);
    // The content is [halves, rows, heads, width, head] at the start of each tensor, whatever the capacity.
    const size_t used = halves() * rows_ * static_cast<size_t>(layout_.kv_heads * width_) * head_bytes();
    for (size_t t = 0; t < tensors_per_set_ && used > 0; ++t)
      std::memcpy(fresh[static_cast<size_t>(current_)].data.get() + t * stride, tensor_base(current_, t),
                  used);
    for (int i = 0; i < 2; ++i) sets_[i] = std::move(fresh[static_cast<size_t>(i)]);
    tensor_stride_ = stride;
    allocated_row_columns_ = *row_columns;
  }
  // Valid flags are [max_rows, capacity]: re-stride them.
  std::vector<uint8_t> valid(new_rows * static_cast<size_t>(new_capacity), 0);
  for (size_t r = 0; r < rows_; ++r)
    std::memcpy(valid.data() + r * static_cast<size_t>(new_capacity),
                valid_.data() + r * static_cast<size_t>(capacity_), static_cast<size_t>(width_));
  valid_ = std::move(valid);
  scratch_valid_.assign(valid_.size(), 0);
  lengths_.resize(new_rows);
  scratch_lengths_.resize(new_rows);
  max_rows_ = new_rows;
  capacity_ = new_capacity;
}

void PaddedKvCache::copy_row(const PaddedKvCache& source, size_t source_rows, size_t from_row, int set_to,
                             size_t rows, int64_t width, size_t to_row, int64_t shift, int64_t first_column,
                             int64_t columns) const {
  const size_t head = head_bytes();
  const int64_t to_first = first_column + shift;
  for (size_t t = 0; t < tensors_per_set_; ++t)
    for (size_t h = 0; h < halves(); ++h)
      for (int64_t k = 0; k < layout_.kv_heads; ++k) {
        std::byte* to = at(set_to, t, h, rows, width, to_row, k, 0);
        // Columns the row does not fill are zeroed: masked keys must still be finite numbers.
        std::memset(to, 0, static_cast<size_t>(to_first) * head);
        std::memcpy(to + static_cast<size_t>(to_first) * head,
                    source.at(source.current_, t, h, source_rows, source.width_, from_row, k, first_column),
                    static_cast<size_t>(columns) * head);
        std::memset(to + static_cast<size_t>(to_first + columns) * head, 0,
                    static_cast<size_t>(width - to_first - columns) * head);
      }
}

void PaddedKvCache::append(const PaddedKvCache& from) {
  const size_t added = from.rows_;
  if (added == 0) return;
  const bool left = layout_.padding == Padding::left;
  const int64_t width = std::max(width_, from.width_);
  const size_t rows = rows_ + added;
  reserve(rows, width);
  // With separate tensors, rows are outermost: new rows go after the others, which stay in place.
  const bool in_place = halves() == 1 && width == width_;
  const int target = in_place ? current_ : 1 - current_;
  const int64_t grow = width - width_;
  if (!in_place)
    for (size_t r = 0; r < rows_; ++r)
      copy_row(*this, rows_, r, target, rows, width, r, left ? grow : 0, 0, width_);
  for (size_t r = 0; r < added; ++r)
    copy_row(from, added, r, target, rows, width, rows_ + r, left ? width - from.width_ : 0, 0, from.width_);
  const auto cap = static_cast<size_t>(capacity_);
  if (grow > 0 && left)
    for (size_t r = 0; r < rows_; ++r) {
      uint8_t* flags = valid_.data() + r * cap;
      std::memmove(flags + grow, flags, static_cast<size_t>(width_));
      std::fill(flags, flags + grow, uint8_t{0});
    }
  for (size_t r = 0; r < added; ++r) {
    uint8_t* flags = valid_.data() + (rows_ + r) * cap;
    const int64_t shift = left ? width - from.width_ : 0;
    std::fill(flags, flags + width, uint8_t{0});
    std::memcpy(flags + shift, from.key_valid(r).data(), static_cast<size_t>(from.width_));
    lengths_[rows_ + r] = from.lengths_[r];
  }
  current_ = target;
  rows_ = rows;
  width_ = width;
}

void PaddedKvCache::load(std::span<const std::span<const int32_t>> blocks, std::span<const int64_t> tokens,
                         const KvBlockPool& pool) {
  const int64_t width = tokens.empty() ? 0 : *std::max_element(tokens.begin(), tokens.end());
  reserve(rows_, width);
  const bool left = layout_.padding == Padding::left;
  const size_t head = head_bytes();
  const int64_t block_size = pool.block_size();
  for (size_t r = 0; r < rows_; ++r) {
    const int64_t first = left ? width - tokens[r] : 0;  // the row's first cached column
    for (size_t t = 0; t < tensors_per_set_; ++t)
      for (size_t h = 0; h < halves(); ++h)
        for (int64_t k = 0; k < layout_.kv_heads; ++k) {
          std::byte* row = at(current_, t, h, rows_, width, r, k, 0);
          std::memset(row, 0, static_cast<size_t>(width) * head);
          for (int64_t j = 0; j < tokens[r]; ++j)
            std::memcpy(
                row + static_cast<size_t>(first + j) * head,
                pool_slot(pool, t, h, blocks[r][static_cast<size_t>(j / block_size)], k, j % block_size),
                head);
        }
    uint8_t* flags = valid_.data() + r * static_cast<size_t>(capacity_);
    std::fill(flags, flags + width, uint8_t{0});
    std::fill(flags + first, flags + first + tokens[r], uint8_t{1});
    lengths_[r] = tokens[r];
  }
  width_ = width;
}

void PaddedKvCache::store(size_t row, int64_t first_token, std::span<const int32_t> blocks,
                          KvBlockPool& pool) const {
  const int64_t block_size = pool.block_size();
  const int64_t count = static_cast<int64_t>(blocks.size()) * block_size;
  if (first_token < 0 || first_token + count > lengths_[row])
    throw Error("KV store: tokens " + std::to_string(first_token) + ".." +
                std::to_string(first_token + count) + " of a row holding " + std::to_string(lengths_[row]));
  const size_t head = head_bytes();
  const auto flags = key_valid(row);
  int64_t token = 0;
  for (int64_t column = 0; column < width_ && token < first_token + count; ++column) {
    if (!flags[static_cast<size_t>(column)]) continue;
    if (token >= first_token) {
      const int64_t j = token - first_token;
      const int32_t block = blocks[static_cast<size_t>(j / block_size)];
      for (size_t t = 0; t < tensors_per_set_; ++t)
        for (size_t h = 0; h < halves(); ++h)
          for (int64_t k = 0; k < layout_.kv_heads; ++k)
            std::memcpy(pool_slot(pool, t, h, block, k, j % block_size),
                        at(current_, t, h, rows_, width_, row, k, column), head);
    }
    ++token;
  }
}

}  // namespace ortlm::model
