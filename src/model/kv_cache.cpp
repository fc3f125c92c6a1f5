#include "model/kv_cache.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>

#include "ortlm/error.hpp"

namespace ortlm::model {

KvCache::KvCache(const IoLayout& layout)
    : layout_(layout),
      tensors_per_set_(layout.kv.size() * (layout.kv_layout == KvLayout::combined ? 1 : 2)) {}

size_t KvCache::Shape::elements() const {
  size_t n = 1;
  for (size_t i = 0; i < rank; ++i) n *= static_cast<size_t>(dims[i]);
  return n;
}

KvCache::Shape KvCache::shape(int64_t length) const {
  if (layout_.kv_layout == KvLayout::combined)
    return {{2, 1, layout_.kv_heads, length, layout_.head_size}, 5};
  return {{1, layout_.kv_heads, length, layout_.head_size, 0}, 4};
}

namespace {

// a * b, or nullopt when it overflows size_t (the sizes come from the graph's dims and the config).
std::optional<size_t> checked_product(std::initializer_list<size_t> factors) {
  size_t product = 1;
  for (size_t f : factors)
    if (__builtin_mul_overflow(product, f, &product)) return std::nullopt;
  return product;
}

}  // namespace

void KvCache::reset(int64_t capacity) {
  if (capacity > capacity_) {
    if (layout_.kv_heads <= 0 || layout_.head_size <= 0)
      throw Error("the KV cache shape is unknown (" + std::to_string(layout_.kv_heads) + " heads of size " +
                  std::to_string(layout_.head_size) + ")");
    const size_t halves = layout_.kv_layout == KvLayout::combined ? 2 : 1;
    // Each tensor is rounded to 64 bytes so every tensor starts cache-line aligned.
    const auto tensor_bytes =
        checked_product({static_cast<size_t>(layout_.kv_heads), static_cast<size_t>(layout_.head_size),
                         element_size(layout_.kv_type), halves, static_cast<size_t>(capacity)});
    const auto stride = tensor_bytes && *tensor_bytes <= SIZE_MAX - 63
                            ? std::optional<size_t>((*tensor_bytes + 63) / 64 * 64)
                            : std::nullopt;
    const auto bytes = stride ? checked_product({*stride, tensors_per_set_}) : std::nullopt;
    // Two sets: the whole cache must stay addressable, so one set may take at most half of it.
    if (!bytes || *bytes > PTRDIFF_MAX / 2)
      throw Error("the KV cache for " + std::to_string(capacity) + " tokens (" +
                  std::to_string(layout_.kv.size()) + " layers x " + std::to_string(layout_.kv_heads) +
                  " heads x " + std::to_string(layout_.head_size) + " head size) does not fit in memory");
    // Both sets allocated before either replaces the old ones: a failure leaves the cache as it was.
    Buffer fresh[2];
    for (auto& set : fresh) {
      set.data.reset(static_cast<std::byte*>(std::aligned_alloc(64, std::max<size_t>(*bytes, 64))));
      if (!set.data) throw Error("cannot allocate " + std::to_string(*bytes >> 20) + " MiB for the KV cache");
    }
    for (int i = 0; i < 2; ++i) sets_[i] = std::move(fresh[i]);
    tensor_stride_ = *stride;
    capacity_ = capacity;
  }
  length_ = 0;
  current_ = 0;
}

std::byte* KvCache::tensor_base(int set, size_t tensor) const {
  return sets_[set].data.get() + tensor * tensor_stride_;
}

void KvCache::bind(Ort::IoBinding& binding, const Ort::MemoryInfo& memory, int64_t new_tokens) {
  if (length_ + new_tokens > capacity_)
    throw Error("KV cache full: " + std::to_string(length_ + new_tokens) + " tokens > capacity " +
                std::to_string(capacity_));
  const auto past_shape = shape(length_);
  const auto present_shape = shape(length_ + new_tokens);
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

void KvCache::advance(int64_t new_tokens) {
  length_ += new_tokens;
  current_ = 1 - current_;
}

}  // namespace ortlm::model
