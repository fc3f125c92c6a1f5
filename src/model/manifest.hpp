#pragma once
// SHA-256 manifests of model folders, in `sha256sum` format (so `sha256sum -c SHA256SUMS` agrees).
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ortlm::model {

struct ManifestEntry {
  std::string sha256;
  std::filesystem::path file;  // relative to the folder
};

inline constexpr const char* kManifestName = "SHA256SUMS";

using HashProgress = std::function<void(const std::filesystem::path& file, uintmax_t done, uintmax_t total)>;

// Hashes every regular file under `folder` except the manifest itself, sorted by path.
std::vector<ManifestEntry> hash_folder(const std::filesystem::path& folder,
                                       const HashProgress& progress = {});

std::string format_manifest(const std::vector<ManifestEntry>& entries);
// Throws ortlm::Error naming the manifest and line when it is malformed.
std::vector<ManifestEntry> parse_manifest(const std::string& text, const std::string& origin);

struct VerifyReport {
  std::vector<std::string> mismatched, missing, unlisted;  // relative paths
  size_t verified = 0;
  bool ok() const { return mismatched.empty() && missing.empty(); }
};

VerifyReport verify_folder(const std::filesystem::path& folder, const std::vector<ManifestEntry>& manifest,
                           const HashProgress& progress = {});

}  // namespace ortlm::model
