// `ortlm tokenize`: text to ids (stdin or -p), ids to text (--decode), or JSON lines (--jsonl).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "cli/token_ids.hpp"
#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"
#include "util/file.hpp"

namespace ortlm::cli {

namespace {

struct TokenizeArgs {
  std::string model;
  std::string prompt;
  bool prompt_given = false;
  bool special = false;
  bool decode = false;
  bool skip_special = false;
  bool jsonl = false;
};

void write(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

void run_jsonl(const Tokenizer& tokenizer, bool special) {
  std::string line;
  size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    // The shared reader: depth-bounded, and every malformed number an ortlm::Error.
    const nlohmann::json value = util::parse_json(line, "stdin line " + std::to_string(line_no));
    if (!value.is_string()) throw Error("stdin line " + std::to_string(line_no) + ": expected a JSON string");
    auto ids = tokenizer.encode_ids(value.get<std::string>(), special);
    nlohmann::json record = nlohmann::json::object();
    record["ids"] = ids;
    record["decoded"] = tokenizer.decode(ids, false);
    write(record.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
}

void run(const TokenizeArgs& args) {
  std::filesystem::path model = args.model.empty() ? default_model_path() : std::filesystem::path(args.model);
  Tokenizer tokenizer = Tokenizer::from_path(model);
  if (args.jsonl) {
    run_jsonl(tokenizer, args.special);
  } else {
    std::string input =
        args.prompt_given ? args.prompt : std::string(std::istreambuf_iterator<char>(std::cin), {});
    if (args.decode) {
      write(tokenizer.decode(parse_token_ids(input, "tokenize --decode"), args.skip_special) + "\n");
    } else {
      write(join_token_ids(tokenizer.encode_ids(input, args.special)) + "\n");
    }
  }
  std::fflush(stdout);
}

}  // namespace

void register_tokenize(CLI::App& app) {
  auto args = std::make_shared<TokenizeArgs>();
  auto* cmd = app.add_subcommand("tokenize", "Text to token ids (stdin or -p), or ids to text with --decode");
  cmd->add_option("model", args->model, "Model folder or tokenizer.json (default: models/stories260k)");
  cmd->add_option("-p,--prompt", args->prompt, "The text (or ids with --decode) instead of stdin")
      ->each([args](const std::string&) { args->prompt_given = true; });
  cmd->add_flag("--special", args->special, "Add the special tokens (the post-processor's, e.g. BOS)");
  cmd->add_flag("--skip-special", args->skip_special, "With --decode: leave special tokens out of the text");
  cmd->add_flag("--decode", args->decode, "Read ids, print the decoded text");
  cmd->add_flag("--jsonl", args->jsonl,
                "Read one JSON string per line; print {\"ids\": [...], \"decoded\": \"...\"} per line");
  cmd->callback([args] { run(*args); });
}

}  // namespace ortlm::cli
