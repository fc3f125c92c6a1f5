#pragma once
// Streams text while watching for stop strings: text that might be the start of a stop string is
// held back until it is known not to be one, so a stop string never reaches the user.
#include <string>
#include <string_view>
#include <vector>

namespace ortlm::engine {

class StopStringFilter {
 public:
  explicit StopStringFilter(const std::vector<std::string>& stops) : stops_(stops) {}
  // Adds `piece`; appends to `out` the text now safe to emit. Returns true when a stop string was hit
  // (the text before it has been emitted, the rest dropped).
  bool push(std::string_view piece, std::string& out);
  // The held-back text once generation ends for another reason.
  void flush(std::string& out);

 private:
  const std::vector<std::string>& stops_;
  std::string pending_;
};

}  // namespace ortlm::engine
