// ortlm: the command-line front end. Errors print one line naming what is wrong; usage errors exit 2,
// failures 1, as Unix tools do.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "cli/output.hpp"
#include "ortlm/error.hpp"

namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

int fail(const char* message) {
  std::fflush(stdout);
  std::fprintf(stderr, "ortlm: error: %s\n", message);
  return kExitFailure;
}

// CLI11 says "A subcommand is required" for a misspelt command; name it and list the real ones.
bool is_unknown_command(const CLI::App& app, int argc, char** argv, std::string& message) {
  if (argc < 2 || argv[1][0] == '-') return false;
  std::string names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (sub->get_name() == argv[1]) return false;
    names += (names.empty() ? "" : ", ") + sub->get_name();
  }
  message = std::string("unknown command '") + argv[1] + "' (commands: " + names + "; see ortlm --help)";
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ortlm: run Hugging Face language models exported to ONNX, locally", "ortlm"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "ortlm 0.3.0");
  app.failure_message([](const CLI::App* command, const CLI::Error& e) {
    return "ortlm: error: " + std::string(e.what()) + " (see ortlm " +
           (command->get_parent() ? command->get_name() + " " : std::string()) + "--help)\n";
  });
  ortlm::cli::register_generate(app);
  ortlm::cli::register_info(app);
  ortlm::cli::register_verify(app);
  ortlm::cli::register_tokenize(app);
  ortlm::cli::register_template(app);
  ortlm::cli::register_chat(app);
  ortlm::cli::register_serve(app);
  ortlm::cli::register_compress(app);
  ortlm::cli::register_decompress(app);
  ortlm::cli::register_quantize(app);
  if (std::string message; is_unknown_command(app, argc, argv, message)) {
    std::fprintf(stderr, "ortlm: error: %s\n", message.c_str());
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
    ortlm::cli::flush_out();  // a write error anywhere (e.g. a full disk) fails the command
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints CLI11's message and the --help hint
    return e.get_exit_code() == 0 ? 0 : kExitUsage;
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  return 0;
}
