// `ortlm verify MODEL [--write-manifest | --manifest FILE]`: SHA-256 of every file in a model folder.
#include <cstdio>
#include <fstream>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/progress.hpp"
#include "model/manifest.hpp"
#include "ortlm/error.hpp"
#include "util/file.hpp"

namespace ortlm::cli {
namespace fs = std::filesystem;

namespace {

struct VerifyArgs {
  std::string model;
  std::string manifest;
  bool write = false;
};

void run_verify(const VerifyArgs& args) {
  const fs::path folder = args.model.empty() ? default_model_path() : fs::path(args.model);
  if (!fs::is_directory(folder)) throw Error(folder.string() + ": not a model folder");
  ProgressBar bar;
  auto progress = [&](const fs::path& file, uintmax_t done, uintmax_t total) {
    bar.update("hashing " + file.string(), done, total);
  };
  const fs::path manifest_path =
      args.manifest.empty() ? folder / model::kManifestName : fs::path(args.manifest);
  if (args.write) {
    const auto entries = model::hash_folder(folder, progress);
    bar.done();
    std::ofstream(manifest_path) << model::format_manifest(entries);
    std::printf("wrote %s (%zu files)\n", manifest_path.string().c_str(), entries.size());
    return;
  }
  if (!fs::exists(manifest_path)) {
    if (!args.manifest.empty()) throw Error(manifest_path.string() + ": no such manifest");
    // No manifest: print the hashes so the user can record them.
    const auto entries = model::hash_folder(folder, progress);
    bar.done();
    std::fputs(model::format_manifest(entries).c_str(), stdout);
    std::fprintf(stderr, "no %s in %s: hashes printed; --write-manifest records them\n", model::kManifestName,
                 folder.string().c_str());
    return;
  }
  const auto manifest = model::parse_manifest(util::read_file(manifest_path), manifest_path.string());
  const auto report = model::verify_folder(folder, manifest, progress);
  bar.done();
  for (const auto& f : report.unlisted)
    std::fprintf(stderr, "warning: %s is not in the manifest\n", f.c_str());
  std::string problems;
  for (const auto& f : report.mismatched) problems += "\n  " + f + ": SHA-256 mismatch";
  for (const auto& f : report.missing) problems += "\n  " + f + ": missing";
  if (!report.ok())
    throw Error(folder.string() + ": verification failed against " + manifest_path.string() + ":" + problems);
  std::printf("OK: %zu files match %s\n", report.verified, manifest_path.string().c_str());
}

}  // namespace

void register_verify(CLI::App& app) {
  static VerifyArgs args;
  auto* cmd = app.add_subcommand("verify", "Check (or record) the SHA-256 of every file in a model folder");
  cmd->add_option("model", args.model, "Model folder (default: the bundled model)");
  auto* write = cmd->add_flag("--write-manifest", args.write, "Write <model>/SHA256SUMS");
  cmd->add_option("--manifest", args.manifest, "Manifest to check against (default: <model>/SHA256SUMS)")
      ->excludes(write);
  cmd->callback([] { run_verify(args); });
}

}  // namespace ortlm::cli
