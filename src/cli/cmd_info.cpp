// `ortlm info MODEL`: inputs, outputs, layout, dims, opsets, operators, file sizes.
#include <cstdio>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/session_defaults.hpp"
#include "ortlm/model.hpp"

namespace ortlm::cli {

void register_info(CLI::App& app) {
  auto* cmd = app.add_subcommand("info", "Describe a model: inputs, outputs, KV layout, sizes");
  static std::string model_path;
  static SessionOptions session = default_session_options();
  static bool skip_paged = false;
  cmd->add_option("model", model_path, "Model folder or .onnx file (default: the bundled model)");
  add_session_flags(cmd, session);
  cmd->add_flag("--no-paged", skip_paged,
                "Skip checking whether the paged-KV rewrite applies (it builds and probes a second session)");
  cmd->callback([] {
    const auto model =
        Model::load(model_path.empty() ? default_model_path() : std::filesystem::path(model_path), session);
    if (!skip_paged) model->paged_session();  // describe() then says whether engines can page the KV
    std::fputs(model->describe().c_str(), stdout);
  });
}

}  // namespace ortlm::cli
