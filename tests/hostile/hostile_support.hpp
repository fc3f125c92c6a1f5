#pragma once
// The hostile suite's harness: runs the `ortlm` CLI as a hostile user would meet it, under a 4 GiB
// address-space limit (not under the sanitizers, which reserve terabytes of shadow memory) and a
// wall-clock timeout, and classifies the outcome. A case passes only with a clean exit: a signal, a
// timeout, a sanitizer report, an uncaught-exception message or exit 0 on bad input all fail it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "test_support.hpp"

namespace ortlm::hostile {
namespace fs = std::filesystem;

inline constexpr rlim_t kAddressSpaceLimit = rlim_t{4} << 30;
inline constexpr int kDefaultTimeoutSeconds = 60;

struct Outcome {
  int exit_code = -1;  // -1 when killed by a signal
  int signal = 0;      // the signal that ended it, 0 if it exited
  bool timed_out = false;
  std::string out, err;
  double seconds = 0;
};

inline std::string describe(const Outcome& o) {
  std::string s = o.timed_out ? "TIMED OUT"
                  : o.signal  ? "SIGNAL " + std::to_string(o.signal)
                              : "exit " + std::to_string(o.exit_code);
  s += " after " + std::to_string(o.seconds) + " s\n--- stderr:\n" + o.err.substr(0, 4000);
  s += "\n--- stdout:\n" + o.out.substr(0, 2000);
  return s;
}

struct RunOptions {
  std::string stdin_data;
  int timeout_seconds = kDefaultTimeoutSeconds;
  std::string stdout_path;  // redirect stdout to this file (e.g. /dev/full) instead of capturing it
  fs::path cwd;
  std::vector<std::pair<std::string, std::string>> env;  // variables set for the child only
};

// Runs ortlm with `args` (no shell): stdin fed from `options.stdin_data`, stdout and stderr captured.
inline Outcome run_ortlm(const std::vector<std::string>& args, const RunOptions& options = {}) {
  int in_pipe[2], out_pipe[2], err_pipe[2];
  if (::pipe(in_pipe) || ::pipe(out_pipe) || ::pipe(err_pipe)) return {};
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(in_pipe[0], 0);
    if (options.stdout_path.empty()) {
      ::dup2(out_pipe[1], 1);
    } else {
      const int fd = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
    }
    ::dup2(err_pipe[1], 2);
    for (int fd : {in_pipe[0], in_pipe[1], out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
#ifndef ORTLM_TEST_SANITIZED
    const rlimit limit{kAddressSpaceLimit, kAddressSpaceLimit};
    ::setrlimit(RLIMIT_AS, &limit);
#endif
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(126);
    for (const auto& [name, value] : options.env) ::setenv(name.c_str(), value.c_str(), 1);
    std::vector<char*> argv;
    static std::string cli = ORTLM_CLI;
    argv.push_back(cli.data());
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::execv(cli.c_str(), argv.data());
    ::_exit(127);
  }
  ::close(in_pipe[0]);
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);
  ::signal(SIGPIPE, SIG_IGN);
  ::fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  Outcome outcome;
  size_t written = 0;
  if (options.stdin_data.empty()) ::close(in_pipe[1]);
  bool in_open = !options.stdin_data.empty(), out_open = true, err_open = true;
  const auto deadline = start + std::chrono::seconds(options.timeout_seconds);
  while (out_open || err_open) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      outcome.timed_out = true;
      ::kill(pid, SIGKILL);
      break;
    }
    pollfd fds[3] = {{out_pipe[0], static_cast<short>(out_open ? POLLIN : 0), 0},
                     {err_pipe[0], static_cast<short>(err_open ? POLLIN : 0), 0},
                     {in_open ? in_pipe[1] : -1, POLLOUT, 0}};
    if (::poll(fds, 3, static_cast<int>(std::min<long>(left.count(), 1000))) < 0) break;
    char buffer[65536];
    auto drain = [&](pollfd& p, bool& open, std::string& into) {
      if (!open || !(p.revents & (POLLIN | POLLHUP | POLLERR))) return;
      const ssize_t got = ::read(p.fd, buffer, sizeof buffer);
      if (got <= 0)
        open = false;
      else
        into.append(buffer, static_cast<size_t>(got));
    };
    drain(fds[0], out_open, outcome.out);
    drain(fds[1], err_open, outcome.err);
    if (in_open && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      const ssize_t put =
          ::write(in_pipe[1], options.stdin_data.data() + written, options.stdin_data.size() - written);
      if (put > 0) written += static_cast<size_t>(put);
      if (put < 0 || written == options.stdin_data.size()) {
        ::close(in_pipe[1]);
        in_open = false;
      }
    }
  }
  if (in_open) ::close(in_pipe[1]);
  ::close(out_pipe[0]);
  ::close(err_pipe[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (WIFSIGNALED(status)) outcome.signal = WTERMSIG(status);
  if (WIFEXITED(status)) outcome.exit_code = WEXITSTATUS(status);
  return outcome;
}

// Signs of a crash that a clean exit code can hide.
inline bool looks_crashed(const Outcome& o) {
  for (const char* sign : {"AddressSanitizer", "runtime error:", "terminate called", "LeakSanitizer",
                           "Segmentation fault", "std::bad_alloc", "core dumped"})
    if (o.err.find(sign) != std::string::npos) return true;
  return false;
}

// Bad input: exit `code` (1 = error, 2 = usage) with one `ortlm: error:` style message containing `needle`.
inline void expect_clean_error(const Outcome& o, const std::string& needle, int code = 1) {
  EXPECT_FALSE(o.timed_out) << describe(o);
  EXPECT_EQ(o.signal, 0) << describe(o);
  EXPECT_EQ(o.exit_code, code) << describe(o);
  EXPECT_FALSE(looks_crashed(o)) << describe(o);
  EXPECT_NE(o.err.find(needle), std::string::npos) << "expected '" << needle << "' in stderr\n"
                                                   << describe(o);
}

// Good (if unusual) input: exit 0, no crash signs.
inline void expect_success(const Outcome& o) {
  EXPECT_FALSE(o.timed_out) << describe(o);
  EXPECT_EQ(o.signal, 0) << describe(o);
  EXPECT_EQ(o.exit_code, 0) << describe(o);
  EXPECT_FALSE(looks_crashed(o)) << describe(o);
}

// A fresh, empty folder under the test's temporary directory (removed and made anew each call).
inline fs::path scratch_dir(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("ortlm-hostile-" + std::to_string(::getpid())) / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// A whole copy of the bundled model (stories260k, onnx/ included) that a case can damage.
inline fs::path copy_of_bundled_model(const std::string& name) {
  const fs::path dir = scratch_dir(name);
  fs::copy(test::bundled_model(), dir, fs::copy_options::recursive);
  return dir;
}

inline void write_file(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

inline nlohmann::json read_json(const fs::path& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

inline void write_json(const fs::path& path, const nlohmann::json& value) { write_file(path, value.dump()); }

}  // namespace ortlm::hostile
