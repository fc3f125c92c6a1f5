// ortlm: the command-line front end. Errors print one line naming what is wrong and exit 1.
#include <cstdio>
#include <exception>

#include "cli/commands.hpp"
#include "ortlm/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"ortlm: run Hugging Face language models exported to ONNX, locally", "ortlm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ortlm 0.1.0");
  ortlm::cli::register_generate(app);
  ortlm::cli::register_info(app);
  ortlm::cli::register_verify(app);
  ortlm::cli::register_tokenize(app);
  ortlm::cli::register_template(app);
  ortlm::cli::register_chat(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const ortlm::Error& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "ortlm: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    std::fprintf(stderr, "ortlm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
