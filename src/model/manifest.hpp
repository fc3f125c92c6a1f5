#pragma once
// SHA-256 manifests of model folders, in `sha256sum` format (so `sha256sum -c SHA256SUMS` agrees).
//
// What a manifest covers (the rule `ortlm verify` enforces):
// - Its entries are the folder's own names, relative to the folder: files found by walking the
//   folder's real directories. A file may be a symlink to a regular file anywhere (the Hugging Face
//   hub cache keeps snapshots/<rev>/config.json -> ../../blobs/<sha>); its content is hashed, so
//   where the bytes live does not matter.
// - A directory inside the folder must be a real directory, never a symlink: a path through a
//   directory symlink names a file outside the folder's tree (`link/etc/passwd`), which a manifest
//   must not be able to make ortlm read, nor count as verified. Such a line is refused; a directory
//   symlink in the folder is an entry the manifest cannot cover, so it is reported as extra.
// - Every other entry of the folder (any file, FIFO, device, broken or directory symlink) must be
//   listed, or verification fails; `allow_extra` lets through extra regular files the loader does
//   not read (README.md), never ones it does (chat_template.jinja, *.onnx, config files).
// - The top-level SHA256SUMS itself, and top-level .git/ and .cache/ folders (version control and
//   download-tool metadata the loader never reads), are not part of the folder's content.
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace ortlm::model {

struct ManifestEntry {
  std::string sha256;          // 64 lowercase hex digits
  std::filesystem::path file;  // relative to the folder, normalized
};

inline constexpr const char* kManifestName = "SHA256SUMS";

using HashProgress = std::function<void(const std::filesystem::path& file, uintmax_t done, uintmax_t total)>;

// The folder's content as a manifest sees it (see above): files (regular, or symlinks to regular
// files) sorted by relative path, and entries no manifest can cover, with why.
struct FolderListing {
  struct Uncoverable {
    std::filesystem::path file;
    std::string why;
  };
  std::vector<std::filesystem::path> files;
  std::vector<Uncoverable> uncoverable;
};
// `also_excluded` (relative; empty for none) is skipped too: a --manifest kept inside the folder.
FolderListing list_folder(const std::filesystem::path& folder,
                          const std::filesystem::path& also_excluded = {});

// Hashes every file of the folder, sorted by path. Throws ortlm::Error listing the entries no
// manifest could cover (a manifest written anyway would fail its own verification).
std::vector<ManifestEntry> hash_folder(const std::filesystem::path& folder, const HashProgress& progress = {},
                                       const std::filesystem::path& also_excluded = {});

// sha256sum's format, names with a backslash, CR or LF escaped as sha256sum does.
std::string format_manifest(const std::vector<ManifestEntry>& entries);
// Throws ortlm::Error naming the manifest and line when it is malformed: not '<64 hex> <space or
// *><name>', a name that is absolute, has a '..' component or a NUL, a name listed twice, or no
// entries. CRLF line ends (manifests made on Windows) and uppercase hex are accepted.
std::vector<ManifestEntry> parse_manifest(const std::string& text, const std::string& origin);

// Whether ortlm reads this file when it loads the folder (graphs, weights, config, tokenizer and
// chat template files): such a file is never an acceptable extra.
bool read_by_loader(const std::filesystem::path& relative);

struct VerifyOptions {
  bool allow_extra = false;
  std::filesystem::path also_excluded;  // as for list_folder
};

struct VerifyReport {
  std::vector<std::string> mismatched, missing;  // relative paths
  std::vector<std::string> refused;              // "name: why" (a directory symlink, not a regular file)
  std::vector<std::string> extra;                // "name: why" not in the manifest: fails verification
  std::vector<std::string> allowed_extra;        // not in the manifest, let through by allow_extra
  size_t verified = 0;
  bool ok() const { return mismatched.empty() && missing.empty() && refused.empty() && extra.empty(); }
};

VerifyReport verify_folder(const std::filesystem::path& folder, const std::vector<ManifestEntry>& manifest,
                           const VerifyOptions& options = {}, const HashProgress& progress = {});

}  // namespace ortlm::model
