// `ortlm chat`: not implemented yet.
#include "cli/commands.hpp"

namespace ortlm::cli {

void register_chat(CLI::App& /*app*/) {}

}  // namespace ortlm::cli
