// SHA-256 manifests: the folder's own names (file symlinks followed, as in the Hugging Face cache),
// no path through a directory symlink, extra files refused, malformed lines named.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "model/manifest.hpp"
#include "ortlm/error.hpp"
#include "util/sha256.hpp"

namespace ortlm::model {
namespace {
namespace fs = std::filesystem;

fs::path temp_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("ortlm-manifest-" + name + "-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

void write(const fs::path& path, const std::string& bytes) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << bytes;
}

std::vector<std::string> names(const std::vector<ManifestEntry>& entries) {
  std::vector<std::string> out;
  for (const auto& e : entries) out.push_back(e.file.generic_string());
  return out;
}

bool mentions(const std::vector<std::string>& list, const std::string& needle) {
  for (const auto& s : list)
    if (s.find(needle) != std::string::npos) return true;
  return false;
}

// A plain model folder: config.json, onnx/model.onnx, README.md.
fs::path plain_folder(const std::string& name) {
  const fs::path dir = temp_dir(name);
  write(dir / "config.json", "{}");
  write(dir / "onnx" / "model.onnx", "graph");
  write(dir / "README.md", "readme");
  return dir;
}

std::vector<std::string> expect_error(const std::string& text, const std::string& needle) {
  try {
    parse_manifest(text, "SUMS");
    ADD_FAILURE() << "no error for: " << text;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
  return {};
}

const std::string kHash(64, 'a');

VerifyOptions allowing_extra() {
  VerifyOptions options;
  options.allow_extra = true;
  return options;
}

TEST(ModelManifest, HuggingFaceCacheLayoutRoundTrip) {
  // snapshots/<rev>/file -> ../../blobs/<sha>: the manifest lists the snapshot's names.
  const fs::path cache = temp_dir("hf-cache");
  write(cache / "blobs" / "1111", "{}");
  write(cache / "blobs" / "2222", "graph");
  const fs::path snapshot = cache / "snapshots" / "rev";
  fs::create_directories(snapshot / "onnx");
  fs::create_symlink("../../blobs/1111", snapshot / "config.json");
  fs::create_symlink("../../../blobs/2222", snapshot / "onnx" / "model.onnx");
  const auto entries = hash_folder(snapshot);
  EXPECT_EQ(names(entries), (std::vector<std::string>{"config.json", "onnx/model.onnx"}));
  EXPECT_EQ(entries[0].sha256, util::sha256_file(cache / "blobs" / "1111"));
  const auto parsed = parse_manifest(format_manifest(entries), "SUMS");
  const auto report = verify_folder(snapshot, parsed);
  EXPECT_TRUE(report.ok()) << (report.refused.empty() ? "" : report.refused[0]);
  EXPECT_EQ(report.verified, 2u);
  fs::remove_all(cache);
}

TEST(ModelManifest, ModifiedFileIsNamed) {
  const fs::path dir = plain_folder("modified");
  const auto manifest = hash_folder(dir);
  write(dir / "config.json", "{ }");
  const auto report = verify_folder(dir, manifest);
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.mismatched, std::vector<std::string>{"config.json"});
  fs::remove_all(dir);
}

TEST(ModelManifest, ExtraFilesFailUnlessAllowedAndNotReadByTheLoader) {
  const fs::path dir = plain_folder("extra");
  const auto manifest = hash_folder(dir);
  write(dir / "chat_template.jinja", "{{ evil }}");
  write(dir / "NOTES.txt", "notes");
  auto report = verify_folder(dir, manifest);
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(mentions(report.extra, "chat_template.jinja")) << report.extra.size();
  EXPECT_TRUE(mentions(report.extra, "NOTES.txt"));
  // --allow-extra lets NOTES.txt through, never a file the loader reads.
  report = verify_folder(dir, manifest, allowing_extra());
  EXPECT_FALSE(report.ok());
  EXPECT_TRUE(
      mentions(report.extra, "chat_template.jinja: not in the manifest, and read when the model is loaded"));
  EXPECT_EQ(report.allowed_extra, std::vector<std::string>{"NOTES.txt"});
  fs::remove(dir / "chat_template.jinja");
  EXPECT_TRUE(verify_folder(dir, manifest, allowing_extra()).ok());
  fs::remove_all(dir);
}

TEST(ModelManifest, LoaderFilesAreNeverAcceptableExtras) {
  for (const char* name : {"config.json", "tokenizer.json", "chat_template.jinja", "onnx/model.onnx",
                           "model.onnx_data", "model.onnx.data", "genai_config.json", "weights.data"})
    EXPECT_TRUE(read_by_loader(name)) << name;
  for (const char* name : {"README.md", "LICENSE", "reference.json", "images/logo.png"})
    EXPECT_FALSE(read_by_loader(name)) << name;
}

TEST(ModelManifest, DirectorySymlinkCannotReachOutside) {
  const fs::path dir = plain_folder("escape");
  const fs::path outside = temp_dir("escape-outside");
  write(outside / "secret", "secret");
  auto manifest = hash_folder(dir);
  fs::create_symlink(outside, dir / "link");
  // A line naming a file through the directory symlink, with the right hash, is refused.
  manifest.push_back({util::sha256_file(outside / "secret"), "link/secret"});
  const auto report = verify_folder(dir, manifest, allowing_extra());
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.verified, 3u);
  ASSERT_EQ(report.refused.size(), 1u);
  EXPECT_NE(report.refused[0].find("link/secret: reached through the symlink 'link'"), std::string::npos)
      << report.refused[0];
  // The symlink itself is an entry no manifest covers: writing a manifest refuses it.
  EXPECT_TRUE(mentions(report.extra, "link: a symlink to a folder"));
  EXPECT_THROW(hash_folder(dir), Error);
  fs::remove_all(dir);
  fs::remove_all(outside);
}

TEST(ModelManifest, SpecialFilesAreRefusedWithoutBlocking) {
  const fs::path dir = plain_folder("fifo");
  const auto manifest = hash_folder(dir);
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0644), 0);
  fs::create_symlink("/dev/zero", dir / "zero");
  auto report = verify_folder(dir, manifest, allowing_extra());
  EXPECT_TRUE(mentions(report.extra, "pipe: not a regular file"));
  EXPECT_TRUE(mentions(report.extra, "zero: a symlink to something that is not a regular file"));
  // Listed, they are refused, not read (reading /dev/zero would never end).
  auto listed = manifest;
  listed.push_back({kHash, "pipe"});
  listed.push_back({kHash, "zero"});
  report = verify_folder(dir, listed);
  EXPECT_TRUE(mentions(report.refused, "pipe: not a regular file"));
  EXPECT_TRUE(mentions(report.refused, "zero: not a regular file"));
  fs::remove_all(dir);
}

TEST(ModelManifest, ManifestAndMetadataFoldersAreNotContent) {
  const fs::path dir = plain_folder("metadata");
  write(dir / ".git" / "HEAD", "ref");
  write(dir / ".cache" / "huggingface" / "x.metadata", "m");
  write(dir / "sub" / "SHA256SUMS", "nested one is content");
  write(dir / kManifestName, "old");
  EXPECT_EQ(names(hash_folder(dir)),
            (std::vector<std::string>{"README.md", "config.json", "onnx/model.onnx", "sub/SHA256SUMS"}));
  fs::remove_all(dir);
}

TEST(ModelManifest, ParseAcceptsSha256sumForms) {
  const std::string upper(64, 'A');
  const auto entries = parse_manifest(
      kHash + "  config.json\r\n" + upper + " *onnx/model.onnx\r\n\n" + kHash + "  ./x//y", "SUMS");
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[1].sha256, std::string(64, 'a'));
  EXPECT_EQ(names(entries), (std::vector<std::string>{"config.json", "onnx/model.onnx", "x/y"}));
  // Names with a backslash or newline are escaped as sha256sum does, and read back.
  const std::vector<ManifestEntry> odd{{kHash, "a\\b"}, {kHash, "line\nbreak"}};
  const std::string text = format_manifest(odd);
  EXPECT_EQ(text, "\\" + kHash + "  a\\\\b\n\\" + kHash + "  line\\nbreak\n");
  EXPECT_EQ(names(parse_manifest(text, "SUMS")), (std::vector<std::string>{"a\\b", "line\nbreak"}));
}

TEST(ModelManifest, ParseRefusesMalformedLines) {
  expect_error(std::string(63, 'a') + "g  config.json", "SUMS:1: expected '<64 hex digits>  <file>'");
  expect_error(kHash + "config.json", "SUMS:1: expected");
  expect_error(kHash + "  ", "SUMS:1: expected");
  expect_error(kHash + "  ok\n" + kHash + "  ../outside", "SUMS:2: '../outside' leaves the model folder");
  expect_error(kHash + "  a/../../outside", "leaves the model folder");
  expect_error(kHash + "  /etc/passwd", "'/etc/passwd' is an absolute path");
  expect_error(kHash + "  conf" + std::string(1, '\0') + "ig.json", "SUMS:1: NUL byte");
  expect_error(kHash + "  dir/", "does not name a file");
  expect_error(kHash + "  .", "does not name a file");
  expect_error(kHash + "  a\n" + kHash + "  ./a", "SUMS:2: 'a' is listed twice");
  expect_error("\\" + kHash + "  bad\\q", "bad backslash escape");
  expect_error("\n\r\n", "lists no files");
}

}  // namespace
}  // namespace ortlm::model
