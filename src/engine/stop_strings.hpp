#pragma once
// Streams text while watching for stop strings: text that might be the start of a stop string is
// held back until it is known not to be one, so a stop string never reaches the user.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ortlm::engine {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops) : stops_(std::move(stops)) {}
  // Adds `piece`; appends to `out` the text now safe to emit. Returns true when a stop string was hit
  // (the text before it has been emitted, the rest dropped).
  bool push(std::string_view piece, std::string& out);
  // The held-back text once generation ends for another reason.
  void flush(std::string& out);

 private:
  std::vector<std::string> stops_;  // owned: a filter outlives the options it was made from
  std::string pending_;
};

}  // namespace ortlm::engine
