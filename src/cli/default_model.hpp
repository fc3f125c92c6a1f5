#pragma once
#include <filesystem>

namespace ortlm::cli {

// The bundled model (models/stories260k), found from the current folder or beside the executable.
// Throws ortlm::Error when it is in neither place.
std::filesystem::path default_model_path();

}  // namespace ortlm::cli
