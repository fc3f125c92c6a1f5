#pragma once
// The one exception type ortlm throws: its message names the file, field, input or byte at fault.
#include <stdexcept>
#include <string>

namespace ortlm {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace ortlm
