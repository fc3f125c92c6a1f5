#pragma once
// Checksums of original bytes and of the archive's own header and table: XXH3-64 (Debian's
// libxxhash, inlined: nothing to link).
#include <cstdint>
#include <string_view>

namespace ortlm::zip {

uint64_t checksum64(std::string_view bytes);
// The low 32 bits, kept per chunk (a damaged chunk slips through with probability 2^-32).
inline uint32_t checksum32(std::string_view bytes) { return static_cast<uint32_t>(checksum64(bytes)); }

}  // namespace ortlm::zip
