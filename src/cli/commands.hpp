#pragma once
// Each CLI subcommand lives in its own cmd_<name>.cpp and registers itself on the app.
#include <CLI/CLI.hpp>

namespace ortlm::cli {

void register_generate(CLI::App& app);
void register_info(CLI::App& app);
void register_verify(CLI::App& app);
void register_tokenize(CLI::App& app);
void register_template(CLI::App& app);
void register_chat(CLI::App& app);
void register_serve(CLI::App& app);
void register_compress(CLI::App& app);
void register_decompress(CLI::App& app);
void register_quantize(CLI::App& app);

}  // namespace ortlm::cli
