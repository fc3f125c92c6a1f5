// `ortlm tokenize`: text to ids (stdin or -p), ids to text (--decode), or JSON lines (--jsonl).
#include <cstdio>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "cli/default_model.hpp"
#include "ortlm/error.hpp"
#include "ortlm/tokenizer.hpp"

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

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) line.append(i ? " " : "").append(std::to_string(ids[i]));
  return line;
}

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (true) {
    pos = text.find_first_not_of(" \t\r\n,", pos);
    if (pos == std::string::npos) break;
    size_t end = text.find_first_of(" \t\r\n,", pos);
    std::string word = text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    size_t used = 0;
    long long value = 0;
    try {
      value = std::stoll(word, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != word.size() || value < INT32_MIN || value > INT32_MAX) {
      throw Error("tokenize --decode: \"" + word + "\" is not a token id");
    }
    ids.push_back(static_cast<int32_t>(value));
    pos = end;
  }
  return ids;
}

void run_jsonl(const Tokenizer& tokenizer, bool special) {
  std::string line;
  size_t line_no = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (line.empty() || line == "\r") continue;
    nlohmann::json value;
    try {
      value = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      throw Error("stdin line " + std::to_string(line_no) + ": invalid JSON: " + e.what());
    }
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
      write(tokenizer.decode(parse_ids(input), args.skip_special) + "\n");
    } else {
      write(join_ids(tokenizer.encode_ids(input, args.special)) + "\n");
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
