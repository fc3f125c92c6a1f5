#pragma once
// A one-line progress bar on stderr when it is a terminal; silent when piped.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace ortlm::cli {

class ProgressBar {
 public:
  ProgressBar() : enabled_(::isatty(STDERR_FILENO) == 1) {}
  ~ProgressBar() { done(); }
  void update(const std::string& label, uintmax_t done, uintmax_t total) {
    if (!enabled_ || total == 0) return;
    const int width = 30, filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r%-40.40s [%s%s] %3d%%", label.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<int>(100 * done / total));
    shown_ = true;
  }
  void done() {
    if (shown_) std::fprintf(stderr, "\r%80s\r", "");
    shown_ = false;
  }

 private:
  bool enabled_;
  bool shown_ = false;
};

}  // namespace ortlm::cli
