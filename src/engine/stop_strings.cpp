#include "engine/stop_strings.hpp"

#include <algorithm>

namespace ortlm::engine {

bool StopStringFilter::push(std::string_view piece, std::string& out) {
  if (stops_.empty()) {
    out.append(piece);
    return false;
  }
  pending_.append(piece);
  size_t hit = std::string::npos;
  for (const auto& stop : stops_)
    if (!stop.empty()) hit = std::min(hit, pending_.find(stop));
  if (hit != std::string::npos) {
    out.append(pending_, 0, hit);
    pending_.clear();
    return true;
  }
  // Hold back the longest tail of pending_ that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& stop : stops_) {
    for (size_t len = std::min(stop.size() - 1, pending_.size()); len > hold; --len) {
      if (std::string_view(pending_).substr(pending_.size() - len) == std::string_view(stop).substr(0, len)) {
        hold = len;
        break;
      }
    }
  }
  out.append(pending_, 0, pending_.size() - hold);
  pending_.erase(0, pending_.size() - hold);
  return false;
}

void StopStringFilter::flush(std::string& out) {
  out += pending_;
  pending_.clear();
}

}  // namespace ortlm::engine
