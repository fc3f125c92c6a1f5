#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace ortlm::util {

// Hex SHA-256 of a buffer.
std::string sha256_hex(std::string_view bytes);

// Hex SHA-256 of a file, read in chunks; `progress(done_bytes, total_bytes)` is called as it goes.
std::string sha256_file(const std::filesystem::path& path,
                        const std::function<void(uintmax_t, uintmax_t)>& progress = {});

}  // namespace ortlm::util
