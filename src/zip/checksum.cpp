#include "zip/checksum.hpp"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ortlm::zip {

uint64_t checksum64(std::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

}  // namespace ortlm::zip
