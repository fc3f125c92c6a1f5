// `ortlm verify MODEL [--write-manifest | --manifest FILE] [--allow-extra]`: SHA-256 of every file in
// a model folder (what a manifest covers: model/manifest.hpp).
#include <cstdio>

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
  bool allow_extra = false;
};

// The manifest's name relative to the folder when it lies inside it (it does not cover itself).
fs::path relative_inside(const fs::path& file, const fs::path& folder) {
  std::error_code ec;
  const fs::path relative =
      fs::weakly_canonical(file, ec).lexically_relative(fs::weakly_canonical(folder, ec));
  if (ec || relative.empty() || *relative.begin() == "..") return {};
  return relative;
}

std::string listed(const std::vector<std::string>& names, const char* what) {
  std::string out;
  for (const auto& name : names) out += "\n  " + name + what;
  return out;
}

void run_verify(const VerifyArgs& args) {
  const fs::path folder = args.model.empty() ? default_model_path() : fs::path(args.model);
  if (!fs::is_directory(folder)) throw Error(folder.string() + ": not a model folder");
  ProgressBar bar;
  auto progress = [&](const fs::path& file, uintmax_t done, uintmax_t total) {
    bar.update("hashing " + file.string(), done, total);
  };
  const fs::path manifest_path =
      args.manifest.empty() ? folder / model::kManifestName : fs::path(args.manifest);
  const fs::path excluded = relative_inside(manifest_path, folder);
  if (args.write) {
    const auto entries = model::hash_folder(folder, progress, excluded);
    bar.done();
    util::write_file_atomically(manifest_path, model::format_manifest(entries));
    std::printf("wrote %s (%zu files)\n", manifest_path.string().c_str(), entries.size());
    return;
  }
  std::error_code ec;
  if (!fs::exists(manifest_path, ec)) {
    if (!args.manifest.empty()) throw Error(manifest_path.string() + ": no such manifest");
    throw Error(std::string("no ") + model::kManifestName + " in " + folder.string() +
                ": nothing verified (--write-manifest records one)");
  }
  const auto manifest = model::parse_manifest(util::read_file(manifest_path), manifest_path.string());
  const auto report = model::verify_folder(
      folder, manifest, {.allow_extra = args.allow_extra, .also_excluded = excluded}, progress);
  bar.done();
  for (const auto& f : report.allowed_extra)
    std::fprintf(stderr, "note: %s is not in the manifest (allowed by --allow-extra)\n", f.c_str());
  if (!report.ok()) {
    std::string problems = listed(report.mismatched, ": SHA-256 mismatch") +
                           listed(report.missing, ": missing") + listed(report.refused, "") +
                           listed(report.extra, "");
    if (!report.extra.empty() && !args.allow_extra)
      problems += "\n(--allow-extra accepts extra files the loader does not read)";
    throw Error(folder.string() + ": verification failed against " + manifest_path.string() + ":" + problems);
  }
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
  cmd->add_flag("--allow-extra", args.allow_extra,
                "Accept files the manifest does not list, unless the loader reads them")
      ->excludes(write);
  cmd->callback([] { run_verify(args); });
}

}  // namespace ortlm::cli
