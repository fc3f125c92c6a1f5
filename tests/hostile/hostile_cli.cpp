// Hostile inputs to the CLI itself: huge arguments, out-of-range numbers, broken output streams,
// bare model files and misspelt commands (issue 8, items 1, 6-12 and 14).
#include "hostile/hostile_support.hpp"

namespace ortlm::hostile {
namespace {

std::string bundled() { return test::bundled_model().string(); }

std::string words(size_t count) {
  std::string text;
  for (size_t i = 0; i < count; ++i) text += "word ";
  return text;
}

nlohmann::json json_line(const Outcome& o) {
  return nlohmann::json::parse(o.out.substr(0, o.out.find('\n')));
}

// Item 1: ONNX Runtime's telemetry ran a recursive regex over /proc/self/cmdline at start-up, so a
// long argument overflowed the stack; it also wrote under ~/.cache. Both must be gone.
TEST(HostileCli, LongPromptArgumentIsRefusedByContextNotByStack) {
  expect_clean_error(run_ortlm({"generate", bundled(), "-p", words(10000), "-n", "3"}),
                     "more than the model's context length 512");
}

TEST(HostileCli, LongPromptWithinTheContextWorks) {
  const Outcome o = run_ortlm({"generate", bundled(), "-p", words(150), "-n", "3", "--json"});
  expect_success(o);
  EXPECT_GT(json_line(o)["prompt_ids"].size(), 300u);
}

TEST(HostileCli, LongStopStringAndSystemMessageDoNotCrash) {
  expect_success(
      run_ortlm({"generate", bundled(), "-p", "Once", "-n", "3", "--stop", std::string(30000, 'x')}));
  const fs::path dir = scratch_dir("long-system");
  write_file(dir / "conv.json", R"([{"role": "user", "content": "Hi"}])");
  const Outcome o =
      run_ortlm({"chat", bundled(), "--messages", (dir / "conv.json").string(), "--system", words(8000)});
  expect_clean_error(o, "context");
}

TEST(HostileCli, NoTelemetryFilesAreWritten) {
  const fs::path home = scratch_dir("home");
  expect_success(
      run_ortlm({"generate", bundled(), "-p", "Once", "-n", "2"},
                {.env = {{"HOME", home.string()}, {"XDG_CACHE_HOME", (home / ".cache").string()}}}));
  EXPECT_FALSE(fs::exists(home / ".cache")) << "ONNX Runtime telemetry wrote under the home folder";
}

// Item 6: sampling parameters out of range are usage errors that state the range.
TEST(HostileCli, SamplingParametersOutOfRangeAreRefusedWithTheRange) {
  struct Case {
    std::string flag, value, needle;
  };
  const std::vector<Case> cases = {
      {"--temperature", "nan", "temperature must be 0 (greedy) or in [0.001, 1000], not nan"},
      {"--temperature", "-1", "temperature must be 0 (greedy) or in [0.001, 1000], not -1"},
      {"--temperature", "inf", "not inf"},
      {"--temperature", "1e-30", "temperature must be"},
      {"--top-p", "nan", "top_p must be in (0, 1]"},
      {"--top-p", "0", "top_p must be in (0, 1]"},
      {"--top-p", "1.5", "top_p must be in (0, 1]"},
      {"--min-p", "nan", "min_p must be in [0, 1]"},
      {"--min-p", "-0.1", "min_p must be in [0, 1]"},
      {"--top-k", "-3", "top_k must be >= 0"},
      {"--repetition-penalty", "nan", "repetition_penalty must be in [0.01, 100]"},
      {"--repetition-penalty", "inf", "repetition_penalty must be in [0.01, 100]"},
      {"--repetition-penalty", "0", "repetition_penalty must be in [0.01, 100]"},
      {"-n", "-5", "max_new_tokens must be >= 0"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.flag + " " + c.value);
    expect_clean_error(run_ortlm({"generate", bundled(), "-p", "Once", c.flag, c.value}), c.needle, 2);
  }
  expect_clean_error(run_ortlm({"chat", bundled(), "--temperature", "nan"}, {.stdin_data = "Hi\n"}),
                     "temperature must be", 2);
}

TEST(HostileCli, NanLogitsStopWithAnError) {
  const fs::path model = fs::path(ORTLM_TEST_MODELS) / "bad-nan-logits";
  for (const char* mode : {"--greedy", "--temperature=0.8"}) {
    SCOPED_TRACE(mode);
    expect_clean_error(run_ortlm({"generate", model.string(), "--ids", "1,2,3", "-n", "5", mode}),
                       "non-finite logit (nan for token id 5");
  }
}

// Item 7.
TEST(HostileCli, ThreadCountsAreBounded) {
  for (const char* threads : {"1000", "100000", "-1"}) {
    SCOPED_TRACE(threads);
    const Outcome o = run_ortlm({"generate", bundled(), "-p", "Once", "-n", "2", "--threads", threads},
                                {.timeout_seconds = 20});
    expect_clean_error(o, "--threads", 2);
    EXPECT_NE(o.err.find("not in range"), std::string::npos) << describe(o);
  }
  expect_success(run_ortlm({"generate", bundled(), "-p", "Once", "-n", "2", "--threads", "2"}));
}

// Item 8: a full disk is an error, for every command that prints.
TEST(HostileCli, WriteErrorsFailTheCommand) {
  const fs::path verified = copy_of_bundled_model("verify-full");
  expect_success(run_ortlm({"verify", verified.string(), "--write-manifest"}));
  const std::vector<std::vector<std::string>> commands = {
      {"generate", bundled(), "-p", "Once", "-n", "20"},
      {"generate", bundled(), "-p", "Once", "-n", "20", "--json"},
      {"tokenize", bundled(), "-p", "Once upon a time"},
      {"info", bundled()},
      {"verify", verified.string()},
      {"template", bundled(), "--messages",
       (test::source_dir() / "tests/data/conversations/basic.json").string()},
      {"chat", bundled(), "--messages", (test::source_dir() / "tests/data/conversations/basic.json").string(),
       "-n", "4"},
  };
  for (const auto& args : commands) {
    SCOPED_TRACE(args[0] + " " + args.back());
    expect_clean_error(run_ortlm(args, {.stdout_path = "/dev/full"}), "cannot write to standard output");
  }
}

// Item 9.
TEST(HostileCli, MissingProviderNamesTheAvailableOnes) {
  const Outcome o = run_ortlm({"generate", bundled(), "-p", "Once", "-n", "2", "--provider", "cuda"});
  expect_clean_error(o, "CUDAExecutionProvider");
  EXPECT_EQ(o.err.find("DefaultLogger"), std::string::npos) << describe(o);
  EXPECT_NE(o.err.find("CPUExecutionProvider"), std::string::npos) << describe(o);
}

// Item 10: sampling draws a fresh seed unless one is given, and reports it.
TEST(HostileCli, SamplingSeedIsRandomUnlessGivenAndReported) {
  auto run = [](std::vector<std::string> extra) {
    std::vector<std::string> args = {"generate", bundled(),       "-p", "Once",  "-n",
                                     "24",       "--temperature", "1",  "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    const Outcome o = run_ortlm(args);
    expect_success(o);
    return json_line(o);
  };
  const auto a = run({}), b = run({}), x = run({});
  EXPECT_NE(a["seed"], b["seed"]);
  // The bundled story model is confident enough that two samples of 24 tokens now and then agree
  // (it happened in a full run of the suite); three agreeing means the seed did not change the draw.
  EXPECT_FALSE(a["new_ids"] == b["new_ids"] && b["new_ids"] == x["new_ids"])
      << "three unseeded sampling runs gave the same 24 tokens";
  const auto c = run({"--seed", "42"}), d = run({"--seed", "42"});
  EXPECT_EQ(c["seed"], 42);
  EXPECT_EQ(c["new_ids"], d["new_ids"]);
  // The reported seed reproduces the run.
  const auto e = run({"--seed", std::to_string(a["seed"].get<uint64_t>())});
  EXPECT_EQ(e["new_ids"], a["new_ids"]);
  const Outcome stats = run_ortlm({"generate", bundled(), "-p", "Once", "-n", "2", "--temperature", "1"});
  expect_success(stats);
  EXPECT_NE(stats.err.find(", seed "), std::string::npos) << describe(stats);
}

// Item 11: prompts from a file or standard input.
TEST(HostileCli, PromptFromFileOrStandardInput) {
  const fs::path dir = scratch_dir("prompt-file");
  write_file(dir / "prompt.txt", "Once upon a time");
  const Outcome reference = run_ortlm({"generate", bundled(), "-p", "Once upon a time", "-n", "8", "--json"});
  expect_success(reference);
  const auto expected = json_line(reference)["new_ids"];
  for (const Outcome& o :
       {run_ortlm({"generate", bundled(), "-f", (dir / "prompt.txt").string(), "-n", "8", "--json"}),
        run_ortlm({"generate", bundled(), "-f", "-", "-n", "8", "--json"},
                  {.stdin_data = "Once upon a time"}),
        run_ortlm({"generate", bundled(), "-n", "8", "--json"}, {.stdin_data = "Once upon a time"})}) {
    expect_success(o);
    EXPECT_EQ(json_line(o)["new_ids"], expected) << describe(o);
  }
  expect_clean_error(run_ortlm({"generate", bundled(), "-f", (dir / "missing.txt").string()}), "missing.txt");
}

// Item 12: a bare .onnx file can be described, and generates once given a context length.
TEST(HostileCli, BareOnnxFileWithoutConfig) {
  const fs::path dir = scratch_dir("bare");
  fs::copy_file(test::bundled_model() / "onnx" / "model.onnx", dir / "model.onnx");
  const std::string onnx = (dir / "model.onnx").string();
  const Outcome info = run_ortlm({"info", onnx});
  expect_success(info);
  EXPECT_NE(info.out.find("context:       unknown"), std::string::npos) << describe(info);
  expect_clean_error(run_ortlm({"generate", onnx, "--ids", "1,403", "-n", "4"}), "--context N");
  const Outcome o = run_ortlm({"generate", onnx, "--ids", "1,403", "-n", "4", "--context", "64", "--json"});
  expect_success(o);
  EXPECT_EQ(json_line(o)["new_ids"].size(), 4u);
  expect_clean_error(run_ortlm({"generate", onnx, "--ids", "1", "--context", "-1"}), "--context", 2);
  expect_clean_error(run_ortlm({"generate", onnx, "--ids", "1", "--context", "0"}), "--context", 2);
}

// Item 14: Unix conventions.
TEST(HostileCli, UnknownCommandIsNamedWithTheCommandList) {
  const Outcome o = run_ortlm({"genrate", "-p", "x"});
  expect_clean_error(o, "unknown command 'genrate'", 2);
  EXPECT_NE(o.err.find("generate, info, verify"), std::string::npos) << describe(o);
}

TEST(HostileCli, UsageErrorsExitTwo) {
  expect_clean_error(run_ortlm({"generate", "--bogus"}), "--bogus", 2);
  expect_clean_error(run_ortlm({"generate", "-p", "x", "-n", "abc"}), "max-new-tokens", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "-p", "x", "--stop", ""}),
                     "stop string must not be empty", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "-p", "x", "--stop-id", "-1"}),
                     "stop token id -1 must be >= 0", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "--ids", "1,,2"}), "an id is missing", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "--ids", "1,2,"}), "after the last comma", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "--ids", "1,x"}), "'x' is not a token id", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "--ids", "99999999999"}), "too large", 2);
  expect_clean_error(run_ortlm({"generate", bundled(), "-p", "x", "--optimization-level", "5"}),
                     "--optimization-level", 2);
}

TEST(HostileCli, StopIdPastTheVocabularyIsRefused) {
  expect_clean_error(run_ortlm({"generate", bundled(), "-p", "x", "--stop-id", "100000"}),
                     "stop token id 100000 is outside the model's vocabulary [0, 512)");
}

TEST(HostileCli, NoDisplayPromptAndLoadTime) {
  const Outcome shown = run_ortlm({"generate", bundled(), "-p", "Once upon a time", "-n", "6"});
  const Outcome hidden =
      run_ortlm({"generate", bundled(), "-p", "Once upon a time", "-n", "6", "--no-display-prompt"});
  expect_success(shown);
  expect_success(hidden);
  EXPECT_EQ(shown.out, "Once upon a time" + hidden.out) << describe(hidden);
  EXPECT_NE(shown.err.find("| load "), std::string::npos) << describe(shown);
  const Outcome json = run_ortlm({"generate", bundled(), "-p", "Once", "-n", "2", "--json"});
  expect_success(json);
  EXPECT_GT(json_line(json)["load_ms"].get<double>(), 0.0);
}

TEST(HostileCli, ChatAndGenerateJsonShareTheirKeys) {
  const fs::path dir = scratch_dir("json-keys");
  write_file(dir / "conv.json", R"([{"role": "user", "content": "Hi"}])");
  const Outcome chat =
      run_ortlm({"chat", bundled(), "--messages", (dir / "conv.json").string(), "-n", "3", "--json"});
  const Outcome generate = run_ortlm({"generate", bundled(), "-p", "Hi", "-n", "3", "--json"});
  expect_success(chat);
  expect_success(generate);
  auto keys = [](const Outcome& o) {
    const auto object = nlohmann::ordered_json::parse(o.out.substr(0, o.out.find('\n')));
    std::vector<std::string> names;
    for (const auto& [key, value] : object.items()) names.push_back(key);
    return names;
  };
  const auto chat_keys = keys(chat), generate_keys = keys(generate);
  EXPECT_EQ(chat_keys, generate_keys);
}

}  // namespace
}  // namespace ortlm::hostile
