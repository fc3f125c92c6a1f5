// `ortlm tokenize`: not implemented yet.
#include "cli/commands.hpp"

namespace ortlm::cli {

void register_tokenize(CLI::App& /*app*/) {}

}  // namespace ortlm::cli
