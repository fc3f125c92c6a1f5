// `ortlm template`: not implemented yet.
#include "cli/commands.hpp"

namespace ortlm::cli {

void register_template(CLI::App& /*app*/) {}

}  // namespace ortlm::cli
