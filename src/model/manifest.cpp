#include "model/manifest.hpp"

#include <algorithm>
#include <set>
#include <sstream>

#include "ortlm/error.hpp"
#include "util/sha256.hpp"

namespace ortlm::model {
namespace fs = std::filesystem;

namespace {

std::string hash_one(const fs::path& folder, const fs::path& relative, const HashProgress& progress) {
  return util::sha256_file(folder / relative, [&](uintmax_t done, uintmax_t total) {
    if (progress) progress(relative, done, total);
  });
}

}  // namespace

std::vector<ManifestEntry> hash_folder(const fs::path& folder, const HashProgress& progress) {
  if (!fs::is_directory(folder)) throw Error(folder.string() + ": not a folder");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder))
    if (entry.is_regular_file() && entry.path().filename() != kManifestName)
      files.push_back(fs::relative(entry.path(), folder));
  std::sort(files.begin(), files.end());
  std::vector<ManifestEntry> entries;
  for (const auto& f : files) entries.push_back({hash_one(folder, f, progress), f});
  return entries;
}

std::string format_manifest(const std::vector<ManifestEntry>& entries) {
  std::string out;
  for (const auto& e : entries) out += e.sha256 + "  " + e.file.generic_string() + "\n";
  return out;
}

std::vector<ManifestEntry> parse_manifest(const std::string& text, const std::string& origin) {
  std::vector<ManifestEntry> entries;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const bool hex = line.size() > 66 && std::all_of(line.begin(), line.begin() + 64, [](char c) {
                       return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                     });
    if (!hex || line[64] != ' ' || (line[65] != ' ' && line[65] != '*'))
      throw Error(origin + ":" + std::to_string(number) + ": expected '<64 hex digits>  <file>'");
    const fs::path file = line.substr(66);
    if (file.is_absolute() || file.lexically_normal().string().starts_with(".."))
      throw Error(origin + ":" + std::to_string(number) + ": '" + file.string() +
                  "' leaves the model folder");
    entries.push_back({line.substr(0, 64), file});
  }
  if (entries.empty()) throw Error(origin + ": the manifest lists no files");
  return entries;
}

VerifyReport verify_folder(const fs::path& folder, const std::vector<ManifestEntry>& manifest,
                           const HashProgress& progress) {
  VerifyReport report;
  std::set<fs::path> listed;
  for (const auto& e : manifest) {
    listed.insert(e.file.lexically_normal());
    if (!fs::is_regular_file(folder / e.file)) {
      report.missing.push_back(e.file.generic_string());
      continue;
    }
    if (hash_one(folder, e.file, progress) != e.sha256)
      report.mismatched.push_back(e.file.generic_string());
    else
      ++report.verified;
  }
  for (const auto& entry : fs::recursive_directory_iterator(folder)) {
    const auto relative = fs::relative(entry.path(), folder).lexically_normal();
    if (entry.is_regular_file() && entry.path().filename() != kManifestName && !listed.count(relative))
      report.unlisted.push_back(relative.generic_string());
  }
  return report;
}

}  // namespace ortlm::model
