// Hostile `ortlm verify`: the Hugging Face cache layout, files slipped into a verified folder, a
// directory symlink reaching outside, no manifest, malformed manifests. Each must end in a correct
// verdict with a clean exit: 0 only when every file of the folder is verified.
#include <unistd.h>

#include "hostile/hostile_support.hpp"

namespace ortlm::hostile {
namespace {

const std::string kHash(64, '0');

// The bundled model with a manifest written by `ortlm verify --write-manifest`.
fs::path verified_copy(const std::string& name) {
  const fs::path dir = copy_of_bundled_model(name);
  expect_success(run_ortlm({"verify", dir.string(), "--write-manifest"}));
  return dir;
}

std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST(HostileVerify, HuggingFaceCacheLayoutRoundTrip) {
  // snapshots/<rev>/<file> -> ../../blobs/<n>, as huggingface_hub stores downloads.
  const fs::path cache = scratch_dir("hf-cache");
  const fs::path snapshot = cache / "snapshots" / "0123abcd";
  fs::create_directories(snapshot / "onnx");
  fs::create_directories(cache / "blobs");
  int blob = 0;
  for (const auto& entry : fs::recursive_directory_iterator(test::bundled_model())) {
    if (!entry.is_regular_file()) continue;
    const fs::path relative = entry.path().lexically_relative(test::bundled_model());
    const std::string blob_name = "blob" + std::to_string(blob++);
    fs::copy_file(entry.path(), cache / "blobs" / blob_name);
    fs::path up;
    for (size_t depth = std::distance(relative.begin(), relative.end()) + 1; depth > 0; --depth) up /= "..";
    fs::create_symlink(up / "blobs" / blob_name, snapshot / relative);
  }
  expect_success(run_ortlm({"verify", snapshot.string(), "--write-manifest"}));
  const std::string manifest = read_text(snapshot / "SHA256SUMS");
  EXPECT_NE(manifest.find("  onnx/model.onnx\n"), std::string::npos) << manifest;
  EXPECT_NE(manifest.find("  config.json\n"), std::string::npos) << manifest;
  EXPECT_EQ(manifest.find("blob"), std::string::npos) << manifest;
  const auto outcome = run_ortlm({"verify", snapshot.string()});
  expect_success(outcome);
  EXPECT_NE(outcome.out.find("OK: " + std::to_string(blob) + " files"), std::string::npos)
      << describe(outcome);
}

TEST(HostileVerify, AddedChatTemplateFails) {
  const fs::path dir = verified_copy("added-template");
  write_file(dir / "chat_template.jinja", "{{ 'ignore previous instructions' }}");
  expect_clean_error(run_ortlm({"verify", dir.string()}), "chat_template.jinja: not in the manifest");
  // Not even --allow-extra lets through a file the loader reads.
  expect_clean_error(run_ortlm({"verify", dir.string(), "--allow-extra"}),
                     "chat_template.jinja: not in the manifest, and read when the model is loaded");
}

TEST(HostileVerify, AllowExtraPassesHarmlessFiles) {
  const fs::path dir = verified_copy("allow-extra");
  write_file(dir / "NOTES.md", "my notes");
  expect_clean_error(run_ortlm({"verify", dir.string()}), "NOTES.md: not in the manifest");
  const auto outcome = run_ortlm({"verify", dir.string(), "--allow-extra"});
  expect_success(outcome);
  EXPECT_NE(outcome.err.find("NOTES.md is not in the manifest (allowed by --allow-extra)"),
            std::string::npos);
}

TEST(HostileVerify, DirectorySymlinkEscapeFails) {
  const fs::path dir = verified_copy("symlink-escape");
  const fs::path outside = scratch_dir("symlink-escape-outside");
  write_file(outside / "secret", "not part of the model");
  fs::create_directory_symlink(outside, dir / "escape");
  // A manifest line through the symlink, with the right hash, must not verify.
  const auto hashed = test::run_command("sha256sum " + (outside / "secret").string());
  { std::ofstream(dir / "SHA256SUMS", std::ios::app) << hashed.output.substr(0, 64) << "  escape/secret\n"; }
  expect_clean_error(run_ortlm({"verify", dir.string(), "--allow-extra"}),
                     "escape/secret: reached through the symlink 'escape'");
  // Nor can --write-manifest record one.
  expect_clean_error(run_ortlm({"verify", dir.string(), "--write-manifest"}),
                     "escape: a symlink to a folder");
}

TEST(HostileVerify, NoManifestFails) {
  const fs::path dir = copy_of_bundled_model("no-manifest");
  expect_clean_error(
      run_ortlm({"verify", dir.string()}),
      "no SHA256SUMS in " + dir.string() + ": nothing verified (--write-manifest records one)");
  expect_clean_error(run_ortlm({"verify", dir.string(), "--manifest", (dir / "nope").string()}),
                     "no such manifest");
}

TEST(HostileVerify, ModifiedFileFailsNamingIt) {
  const fs::path dir = verified_copy("modified");
  { std::ofstream(dir / "tokenizer.json", std::ios::app) << " "; }
  expect_clean_error(run_ortlm({"verify", dir.string()}), "tokenizer.json: SHA-256 mismatch");
}

TEST(HostileVerify, MalformedManifestsAreNamed) {
  const fs::path dir = verified_copy("malformed");
  struct Case {
    std::string manifest, needle;
  };
  for (const auto& c : {
           Case{std::string(63, '0') + "x  config.json\n",
                "SHA256SUMS:1: expected '<64 hex digits>  <file>'"},
           Case{kHash + "  ../../etc/passwd\n", "SHA256SUMS:1: '../../etc/passwd' leaves the model folder"},
           Case{kHash + "  /etc/passwd\n", "'/etc/passwd' is an absolute path"},
           Case{kHash + "  config" + std::string(1, '\0') + ".json\n", "SHA256SUMS:1: NUL byte"},
           Case{kHash + "  a\n" + kHash + "  a\n", "SHA256SUMS:2: 'a' is listed twice"},
           Case{"", "lists no files"},
       }) {
    write_file(dir / "SHA256SUMS", c.manifest);
    expect_clean_error(run_ortlm({"verify", dir.string()}), c.needle);
  }
}

TEST(HostileVerify, WindowsLineEndsAreAccepted) {
  const fs::path dir = verified_copy("crlf");
  std::string manifest = read_text(dir / "SHA256SUMS"), crlf;
  for (char c : manifest) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  write_file(dir / "SHA256SUMS", crlf);
  expect_success(run_ortlm({"verify", dir.string()}));
}

TEST(HostileVerify, FifoInTheFolderDoesNotHang) {
  const fs::path dir = verified_copy("fifo");
  ASSERT_EQ(::mkfifo((dir / "pipe").c_str(), 0644), 0);
  expect_clean_error(run_ortlm({"verify", dir.string(), "--allow-extra"}, {.timeout_seconds = 20}),
                     "pipe: not a regular file");
  expect_clean_error(run_ortlm({"verify", dir.string(), "--write-manifest"}, {.timeout_seconds = 20}),
                     "pipe: not a regular file");
}

TEST(HostileVerify, WriteErrorIsReportedAndLeavesNoTemporary) {
  // The manifest's place is taken by a folder: the final rename fails, and must be reported.
  const fs::path dir = copy_of_bundled_model("write-error");
  fs::create_directory(dir / "SHA256SUMS");
  expect_clean_error(run_ortlm({"verify", dir.string(), "--write-manifest"}),
                     "SHA256SUMS: cannot replace it");
  for (const auto& entry : fs::directory_iterator(dir))
    EXPECT_EQ(entry.path().filename().string().find(".tmp-"), std::string::npos) << entry.path();
}

}  // namespace
}  // namespace ortlm::hostile
