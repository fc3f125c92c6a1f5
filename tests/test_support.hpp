#pragma once
// Paths and helpers shared by the tests.
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "ortlm/error.hpp"

namespace ortlm::test {

inline std::filesystem::path source_dir() { return ORTLM_SOURCE_DIR; }
inline std::filesystem::path bundled_model() { return source_dir() / "models" / "stories260k"; }
inline std::filesystem::path test_models() { return ORTLM_TEST_MODELS; }
inline std::filesystem::path shared_models() { return std::filesystem::path(ORTLM_SHARED_DIR) / "models"; }

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr together
};

// Runs a shell command, capturing its output.
inline CommandResult run_command(const std::string& command) {
  CommandResult result;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buffer;
  size_t got;
  while ((got = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
    result.output.append(buffer.data(), got);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

// The message of the ortlm::Error that `f()` throws, or "(no error)".
template <class F>
std::string error_message(F&& f) {
  try {
    f();
  } catch (const ortlm::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// The widest instruction set ortlm's own kernels use on this CPU: "avx512", "avx2" (with FMA) or
// "scalar" (model/cpu_kernels_*.cpp).
inline const char* widest_isa() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
  return "scalar";
}

}  // namespace ortlm::test
