#include "cli/output.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::cli {

namespace {

[[noreturn]] void write_failed(int error) {
  std::clearerr(stdout);  // nothing more is written, so the error is reported once
  throw Error(std::string("cannot write to standard output: ") +
              (error ? std::strerror(error) : "an earlier write failed"));
}

}  // namespace

void write_out(std::string_view text) {
  if (text.empty()) return;
  errno = 0;
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size()) write_failed(errno);
}

void flush_out() {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) write_failed(errno);
}

}  // namespace ortlm::cli
