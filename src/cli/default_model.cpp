#include "cli/default_model.hpp"

#include <unistd.h>

#include "ortlm/error.hpp"

namespace ortlm::cli {
namespace fs = std::filesystem;

fs::path default_model_path() {
  const fs::path relative = fs::path("models") / "stories260k";
  if (fs::exists(relative)) return relative;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // build/ortlm in the source tree, or <prefix>/bin/ortlm with <prefix>/share/ortlm/models.
    for (const fs::path& candidate : {exe.parent_path().parent_path() / relative,
                                      exe.parent_path().parent_path() / "share" / "ortlm" / relative})
      if (fs::exists(candidate)) return candidate;
  }
  throw Error("no model given and the bundled model models/stories260k was not found; pass a model folder");
}

}  // namespace ortlm::cli
