#pragma once
// Standard base64 (RFC 4648, with padding) decoding.
#include <optional>
#include <string>
#include <string_view>

namespace ortlm {

// The decoded bytes, or nullopt when `text` is not valid base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace ortlm
