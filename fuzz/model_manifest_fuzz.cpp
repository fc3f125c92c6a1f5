// libFuzzer target: arbitrary text as a SHA256SUMS manifest. It must parse or fail with
// ortlm::Error; what parses must read back the same after formatting (names escaped as sha256sum
// does), and every name must stay inside the folder.
#include <cstddef>
#include <cstdint>
#include <string>

#include "model/manifest.hpp"
#include "ortlm/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  std::vector<ortlm::model::ManifestEntry> entries;
  try {
    entries = ortlm::model::parse_manifest(text, "fuzz");
  } catch (const ortlm::Error&) {
    return 0;
  }
  for (const auto& e : entries) {
    if (e.file.is_absolute() || e.sha256.size() != 64) __builtin_trap();
    for (const auto& component : e.file)
      if (component == "..") __builtin_trap();
  }
  const auto again = ortlm::model::parse_manifest(ortlm::model::format_manifest(entries), "round trip");
  if (again.size() != entries.size()) __builtin_trap();
  for (size_t i = 0; i < entries.size(); ++i)
    if (again[i].sha256 != entries[i].sha256 || again[i].file != entries[i].file) __builtin_trap();
  return 0;
}
