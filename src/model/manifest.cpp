#include "model/manifest.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "ortlm/error.hpp"
#include "util/sha256.hpp"

namespace ortlm::model {
namespace fs = std::filesystem;

namespace {

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd = -1) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(FileDescriptor&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  FileDescriptor& operator=(FileDescriptor&& other) noexcept {
    std::swap(fd_, other.fd_);
    return *this;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// Top-level folders that are not the model's content (see manifest.hpp).
bool is_metadata_folder(const fs::path& relative) { return relative == ".git" || relative == ".cache"; }

std::string hash_open_file(const FileDescriptor& fd, const fs::path& folder, const fs::path& relative,
                           const HashProgress& progress) {
  // Hashing through /proc/self/fd reads the very file that was checked, not whatever the path
  // names by now; without /proc, the path.
  const fs::path by_descriptor = "/proc/self/fd/" + std::to_string(fd.get());
  std::error_code ec;
  const fs::path source = fs::exists(by_descriptor, ec) ? by_descriptor : folder / relative;
  try {
    return util::sha256_file(source, [&](uintmax_t done, uintmax_t total) {
      if (progress) progress(relative, done, total);
    });
  } catch (const Error& e) {
    throw Error((folder / relative).string() + ": cannot hash: " + e.what());
  }
}

// Opens `relative` under `folder` the way manifest.hpp's rule allows: every directory on the way
// opened with O_NOFOLLOW (a directory symlink is refused), the last component followed (a file
// symlink is the folder's file). Returns the descriptor, or sets `missing` or `refused`.
FileDescriptor open_entry(const fs::path& folder, const fs::path& relative, bool& missing,
                          std::string& refused) {
  FileDescriptor dir(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) throw Error(folder.string() + ": cannot open: " + std::strerror(errno));
  fs::path walked;
  const fs::path parent = relative.parent_path();
  for (const auto& component : parent) {
    walked /= component;
    FileDescriptor next(
        ::openat(dir.get(), component.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (next.get() < 0) {
      struct stat st {};
      if (errno == ENOENT) {
        missing = true;
      } else if (::fstatat(dir.get(), component.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                 S_ISLNK(st.st_mode)) {
        refused = "reached through the symlink '" + walked.generic_string() +
                  "' (directories inside the folder must not be symlinks)";
      } else {
        refused = "'" + walked.generic_string() + "' is not a folder";
      }
      return FileDescriptor();
    }
    dir = std::move(next);
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer; fstat then refuses it.
  FileDescriptor file(::openat(dir.get(), relative.filename().c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
  if (file.get() < 0) {
    if (errno == ENOENT)
      missing = true;
    else
      refused = std::string("cannot open: ") + std::strerror(errno);
    return FileDescriptor();
  }
  struct stat st {};
  if (::fstat(file.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    refused = "not a regular file";
    return FileDescriptor();
  }
  return file;
}

// What kind of entry the walk met, and why a manifest cannot cover it (empty when it can).
std::string uncoverable_reason(const fs::directory_entry& entry) {
  std::error_code ec;
  const auto own = entry.symlink_status(ec);
  if (fs::is_regular_file(own)) return {};
  if (!fs::is_symlink(own)) return "not a regular file";
  const auto target = entry.status(ec);
  if (fs::is_regular_file(target)) return {};
  if (fs::is_directory(target)) return "a symlink to a folder (a manifest covers the folder's own files)";
  if (!fs::exists(target)) return "a broken symlink";
  return "a symlink to something that is not a regular file";
}

std::string escape_name(const std::string& name) {
  std::string out;
  for (char c : name) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else if (c == '\r')
      out += "\\r";
    else
      out += c;
  }
  return out;
}

// sha256sum's escaping: a line starting with '\' has "\\", "\n" and "\r" in its name. Empty on a
// bad escape.
std::optional<std::string> unescape_name(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] != '\\') {
      out += name[i];
      continue;
    }
    if (++i == name.size()) return std::nullopt;
    if (name[i] == '\\')
      out += '\\';
    else if (name[i] == 'n')
      out += '\n';
    else if (name[i] == 'r')
      out += '\r';
    else
      return std::nullopt;
  }
  return out;
}

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// One manifest line (CR already removed) as an entry; throws naming `where` (file:line).
ManifestEntry parse_line(std::string_view line, const std::string& where) {
  auto fail = [&](const std::string& what) -> ManifestEntry { throw Error(where + ": " + what); };
  if (line.find('\0') != std::string_view::npos) return fail("NUL byte in the line");
  const bool escaped = line.starts_with('\\');
  if (escaped) line.remove_prefix(1);
  if (line.size() < 67 || !std::all_of(line.begin(), line.begin() + 64, is_hex) || line[64] != ' ' ||
      (line[65] != ' ' && line[65] != '*'))
    return fail("expected '<64 hex digits>  <file>'");
  std::string name(line.substr(66));
  if (escaped) {
    auto unescaped = unescape_name(name);
    if (!unescaped) return fail("bad backslash escape in the file name");
    name = std::move(*unescaped);
  }
  const fs::path file = fs::path(name).lexically_normal();
  if (file.is_absolute())
    return fail("'" + name + "' is an absolute path (names are relative to the folder)");
  for (const auto& component : file)
    if (component == "..") return fail("'" + name + "' leaves the model folder ('..')");
  if (file.empty() || file == "." || !file.has_filename())
    return fail("'" + name + "' does not name a file in the folder");
  std::string sha256(line.substr(0, 64));
  std::transform(sha256.begin(), sha256.end(), sha256.begin(),
                 [](char c) { return static_cast<char>(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c); });
  return {sha256, file};
}

}  // namespace

bool read_by_loader(const fs::path& relative) {
  static const std::set<std::string, std::less<>> kConfigNames{"config.json",
                                                               "generation_config.json",
                                                               "genai_config.json",
                                                               "tokenizer.json",
                                                               "tokenizer_config.json",
                                                               "vocab.json",
                                                               "merges.txt",
                                                               "chat_template.jinja",
                                                               "chat_template.json",
                                                               "special_tokens_map.json",
                                                               "added_tokens.json"};
  const std::string name = relative.filename().string();
  // Graphs and their external data: model.onnx, model.onnx_data, model.onnx.data, *.data.
  return kConfigNames.count(name) > 0 || name.find(".onnx") != std::string::npos ||
         relative.extension() == ".data";
}

FolderListing list_folder(const fs::path& folder, const fs::path& also_excluded) {
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw Error(folder.string() + ": not a folder");
  FolderListing listing;
  fs::recursive_directory_iterator it(folder, fs::directory_options::none, ec), end;
  for (; !ec && it != end; it.increment(ec)) {
    const fs::path relative = it->path().lexically_relative(folder);
    std::error_code status_ec;
    if (it->is_directory(status_ec) && !it->is_symlink(status_ec)) {
      if (it.depth() == 0 && is_metadata_folder(relative)) it.disable_recursion_pending();
      continue;
    }
    if (relative == kManifestName || (!also_excluded.empty() && relative == also_excluded)) continue;
    if (const auto why = uncoverable_reason(*it); !why.empty())
      listing.uncoverable.push_back({relative, why});
    else
      listing.files.push_back(relative);
  }
  if (ec) throw Error(folder.string() + ": cannot list the folder: " + ec.message());
  std::sort(listing.files.begin(), listing.files.end());
  std::sort(listing.uncoverable.begin(), listing.uncoverable.end(),
            [](const auto& a, const auto& b) { return a.file < b.file; });
  return listing;
}

std::vector<ManifestEntry> hash_folder(const fs::path& folder, const HashProgress& progress,
                                       const fs::path& also_excluded) {
  const auto listing = list_folder(folder, also_excluded);
  if (!listing.uncoverable.empty()) {
    std::string list;
    for (const auto& u : listing.uncoverable) list += "\n  " + u.file.generic_string() + ": " + u.why;
    throw Error(folder.string() +
                ": no manifest can cover these entries (remove them or copy the files in):" + list);
  }
  std::vector<ManifestEntry> entries;
  for (const auto& file : listing.files) {
    bool missing = false;
    std::string refused;
    const auto fd = open_entry(folder, file, missing, refused);
    if (fd.get() < 0)
      throw Error((folder / file).string() + ": " + (missing ? "disappeared while hashing" : refused));
    entries.push_back({hash_open_file(fd, folder, file, progress), file});
  }
  return entries;
}

std::string format_manifest(const std::vector<ManifestEntry>& entries) {
  std::string out;
  for (const auto& e : entries) {
    const std::string name = e.file.generic_string();
    const std::string escaped = escape_name(name);
    out += (escaped != name ? "\\" : "") + e.sha256 + "  " + escaped + "\n";
  }
  return out;
}

std::vector<ManifestEntry> parse_manifest(const std::string& text, const std::string& origin) {
  std::vector<ManifestEntry> entries;
  std::set<fs::path> seen;
  size_t number = 0;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string_view line(text.data() + start, end - start);
    start = end + 1;
    ++number;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.empty()) continue;
    const std::string where = origin + ":" + std::to_string(number);
    auto entry = parse_line(line, where);
    if (!seen.insert(entry.file).second)
      throw Error(where + ": '" + entry.file.generic_string() + "' is listed twice");
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) throw Error(origin + ": the manifest lists no files");
  return entries;
}

VerifyReport verify_folder(const fs::path& folder, const std::vector<ManifestEntry>& manifest,
                           const VerifyOptions& options, const HashProgress& progress) {
  VerifyReport report;
  std::set<fs::path> listed;
  for (const auto& e : manifest) {
    listed.insert(e.file);
    const std::string name = e.file.generic_string();
    bool missing = false;
    std::string refused;
    const auto fd = open_entry(folder, e.file, missing, refused);
    if (missing)
      report.missing.push_back(name);
    else if (fd.get() < 0)
      report.refused.push_back(name + ": " + refused);
    else if (hash_open_file(fd, folder, e.file, progress) != e.sha256)
      report.mismatched.push_back(name);
    else
      ++report.verified;
  }
  const auto listing = list_folder(folder, options.also_excluded);
  for (const auto& file : listing.files) {
    if (listed.count(file)) continue;
    const std::string name = file.generic_string();
    if (!options.allow_extra)
      report.extra.push_back(name + ": not in the manifest");
    else if (read_by_loader(file))
      report.extra.push_back(name + ": not in the manifest, and read when the model is loaded");
    else
      report.allowed_extra.push_back(name);
  }
  // Entries no manifest covers (a directory symlink, a FIFO) fail even with allow_extra; listed
  // ones were refused above.
  for (const auto& u : listing.uncoverable)
    if (!listed.count(u.file)) report.extra.push_back(u.file.generic_string() + ": " + u.why);
  return report;
}

}  // namespace ortlm::model
