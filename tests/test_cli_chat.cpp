// `ortlm chat` end to end: one reply to a conversation file (plain and --json), a model with and
// without a chat template, the interactive loop driven through a pipe, trimming to the context, and
// clear errors for bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cctype>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "ortlm/tokenizer.hpp"
#include "test_support.hpp"

namespace ortlm {
namespace {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

std::string cli() { return std::string(ORTLM_CLI); }
std::string quoted(const fs::path& p) { return "'" + p.string() + "'"; }

class CliChat : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() / ("ortlm-chat-" + std::to_string(::getpid()) + "-" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) {
    const fs::path path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  // A copy of the bundled model whose tokenizer_config.json has a simple chat template.
  fs::path model_with_template() {
    const fs::path model = dir_ / "templated";
    fs::copy(test::bundled_model(), model, fs::copy_options::recursive);
    const ojson config = {{"add_bos_token", true},
                          {"bos_token", "<s>"},
                          {"eos_token", "</s>"},
                          {"unk_token", "<unk>"},
                          {"tokenizer_class", "LlamaTokenizer"},
                          {"chat_template", kTemplate}};
    std::ofstream(model / "tokenizer_config.json") << config.dump(1);
    return model;
  }

  // `ortlm chat MODEL --messages FILE ...`; stderr is discarded.
  test::CommandResult chat_once(const fs::path& model, const ojson& messages, const std::string& extra) {
    const fs::path file = write("conv-" + std::to_string(counter_++) + ".json", messages.dump());
    return test::run_command(cli() + " chat " + quoted(model) + " --messages " + quoted(file) + " " + extra +
                             " 2>/dev/null");
  }

  ojson chat_json(const fs::path& model, const ojson& messages, const std::string& extra = "--greedy -n 20") {
    const auto r = chat_once(model, messages, extra + " --json");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return ojson::parse(r.output);
  }

  static constexpr const char* kTemplate =
      "{{ bos_token }}{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
      "{% if add_generation_prompt %}assistant:{% endif %}";
  fs::path dir_;
  int counter_ = 0;
};

const ojson kConversation = ojson::parse(R"([{"role": "system", "content": "You are helpful."},
                                             {"role": "user", "content": "Hi"}])");

TEST_F(CliChat, FallbackTemplateOneReply) {
  const auto plain = chat_once(test::bundled_model(), kConversation, "--greedy -n 20");
  ASSERT_EQ(plain.exit_code, 0) << plain.output;
  ASSERT_GT(plain.output.size(), 1u);
  EXPECT_EQ(plain.output.back(), '\n');

  const ojson out = chat_json(test::bundled_model(), kConversation);
  // docs/chat.md: "role: content\n" per message, then "assistant: "; BOS added for the fallback.
  EXPECT_EQ(out["prompt"], "system: You are helpful.\nuser: Hi\nassistant: ");
  ASSERT_FALSE(out["prompt_ids"].empty());
  EXPECT_EQ(out["prompt_ids"][0], 1);
  EXPECT_EQ(out["new_ids"].size(), 20u);
  EXPECT_EQ(out["stop_reason"], "max_tokens");
  EXPECT_EQ(plain.output, out["text"].get<std::string>() + "\n");
  const auto keys =
      std::vector<std::string>{"prompt", "prompt_ids", "new_ids", "text", "stop_reason", "seed"};
  for (const auto& key : keys) EXPECT_TRUE(out.contains(key)) << key;
}

TEST_F(CliChat, ModelTemplateRendersAndTokenizesWithoutSpecialTokens) {
  const fs::path model = model_with_template();
  const ojson out = chat_json(model, kConversation);
  const std::string expected = "<s>system: You are helpful.\nuser: Hi\nassistant:";
  EXPECT_EQ(out["prompt"], expected);
  const Tokenizer tokenizer = Tokenizer::from_path(model);
  const std::vector<int32_t> ids = tokenizer.encode_ids(expected, false);
  EXPECT_EQ(out["prompt_ids"].get<std::vector<int32_t>>(), ids);
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids[0], 1);  // the template's "<s>" text, not a second BOS
  EXPECT_NE(ids[1], 1);
  // Greedy replies are deterministic.
  const ojson again = chat_json(model, kConversation);
  EXPECT_EQ(again["new_ids"], out["new_ids"]);
  EXPECT_EQ(again["text"], out["text"]);
  // --system replaces the file's system message.
  const ojson replaced = chat_json(model, kConversation, "--greedy -n 4 --system 'Be brief.'");
  EXPECT_EQ(replaced["prompt"], "<s>system: Be brief.\nuser: Hi\nassistant:");
}

TEST_F(CliChat, InteractiveThroughAPipe) {
  for (const fs::path& model : {test::bundled_model(), model_with_template()}) {
    SCOPED_TRACE(model.string());
    const auto r =
        test::run_command("printf 'Hello\\n/system Be brief\\nHi\\n/reset\\nHey\\n/exit\\nIgnored\\n' | " +
                          cli() + " chat " + quoted(model) + " --greedy -n 8");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The same three turns asked one at a time: /system resets the history, /reset keeps the system message.
    auto reply = [&](const ojson& messages) {
      return chat_json(model, messages, "--greedy -n 8")["text"].get<std::string>();
    };
    const ojson system = {{"role", "system"}, {"content", "Be brief"}};
    const std::string expected = reply({{{"role", "user"}, {"content", "Hello"}}}) + "\n" +
                                 reply({system, {{"role", "user"}, {"content", "Hi"}}}) + "\n" +
                                 reply({system, {{"role", "user"}, {"content", "Hey"}}}) + "\n";
    EXPECT_EQ(r.output, expected);  // stdout and stderr: no prompts on a non-TTY

    // The history carries the replies: the second turn sees the first reply.
    const auto two = test::run_command("printf 'Hello\\nHow are you\\n' | " + cli() + " chat " +
                                       quoted(model) + " --greedy -n 8 2>/dev/null");
    ASSERT_EQ(two.exit_code, 0) << two.output;
    const std::string first = reply({{{"role", "user"}, {"content", "Hello"}}});
    const std::string second = reply({{{"role", "user"}, {"content", "Hello"}},
                                      {{"role", "assistant"}, {"content", first}},
                                      {{"role", "user"}, {"content", "How are you"}}});
    EXPECT_EQ(two.output, first + "\n" + second + "\n");
  }
}

// Each turn reuses the KV of the conversation so far (the prefix cache, on by default): the replies
// are those of a chat without the cache, and the later turns report cached prompt tokens.
TEST_F(CliChat, LaterTurnsReuseTheConversationsKv) {
  const std::string turns = "printf 'Hello\\nHow are you\\nTell me more\\n' | " + cli() + " chat " +
                            quoted(test::bundled_model()) + " --greedy -n 20";
  const auto cached = test::run_command(turns + " --stats");  // stats on stderr, merged into the output
  const auto uncached = test::run_command(turns + " --cache-mib 0");
  ASSERT_EQ(cached.exit_code, 0) << cached.output;
  std::istringstream lines(cached.output);
  std::string replies;
  std::vector<std::pair<size_t, size_t>> turns_seen;  // (prompt tokens, from the cache)
  for (std::string line; std::getline(lines, line);) {
    size_t prompt = 0, from_cache = 0;
    if (std::sscanf(line.c_str(), "[%zu prompt tokens, %zu from the cache", &prompt, &from_cache) == 2)
      turns_seen.emplace_back(prompt, from_cache);
    else
      replies += line + "\n";
  }
  EXPECT_EQ(replies, uncached.output);
  ASSERT_EQ(turns_seen.size(), 3u);
  EXPECT_EQ(turns_seen[0].second, 0u);
  for (size_t t = 1; t < 3; ++t) {
    // At least the previous turn's prompt, in whole 16-token blocks, comes from the cache.
    EXPECT_GE(turns_seen[t].second, turns_seen[t - 1].first / 16 * 16) << "turn " << t;
    EXPECT_LT(turns_seen[t].second, turns_seen[t].first) << "turn " << t;
  }
}

TEST_F(CliChat, StopStringEndsTheReply) {
  const std::string reply = chat_json(test::bundled_model(), kConversation)["text"];
  // A word from the middle of the greedy reply (letters only, so that it needs no shell quoting).
  size_t begin = 1;
  while (begin < reply.size() && !std::islower(static_cast<unsigned char>(reply[begin]))) ++begin;
  size_t end = begin;
  while (end < reply.size() && std::islower(static_cast<unsigned char>(reply[end]))) ++end;
  ASSERT_GE(end - begin, 2u) << reply;
  const std::string stop = reply.substr(begin, end - begin);
  const ojson out = chat_json(test::bundled_model(), kConversation, "--greedy -n 20 --stop " + stop);
  EXPECT_EQ(out["stop_reason"], "stop_string");
  const std::string cut = out["text"];
  EXPECT_EQ(cut, reply.substr(0, reply.find(stop)));
}

TEST_F(CliChat, DropsOldTurnsToFitTheContext) {
  std::string turn, huge;
  for (int i = 0; i < 8; ++i) turn += "Once upon a time there was a cat. ";
  for (int i = 0; i < 10; ++i) huge += turn;
  // stories260k has 512 positions: with -n 100, the third turn needs the first one dropped; a turn
  // that alone is too long is refused and the loop goes on.
  const fs::path input = write("input.txt", turn + "\n" + turn + "\n" + huge + "\n" + turn + "\n");
  const auto r = test::run_command(cli() + " chat " + quoted(test::bundled_model()) +
                                   " --greedy -n 100 --system 'Be nice' < " + quoted(input));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dropped the 2 oldest messages"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("does not fit in the model's context"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;

  const auto once =
      chat_once(test::bundled_model(), ojson::array({{{"role", "user"}, {"content", huge}}}), "");
  EXPECT_EQ(once.exit_code, 1);
}

TEST_F(CliChat, BadInputFailsWithAMessage) {
  const fs::path bad = write("bad.json", "[{\"role\": \"user\", ");
  auto r = test::run_command(cli() + " chat " + quoted(test::bundled_model()) + " --messages " + quoted(bad));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(bad.string() + ": invalid JSON at byte"), std::string::npos) << r.output;

  const fs::path missing = dir_ / "missing.json";
  r = test::run_command(cli() + " chat " + quoted(test::bundled_model()) + " --messages " + quoted(missing));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find(missing.string()), std::string::npos) << r.output;

  const fs::path not_list = write("object.json", "{\"role\": \"user\"}");
  r = test::run_command(cli() + " chat " + quoted(test::bundled_model()) + " --messages " + quoted(not_list));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("expected a list of messages"), std::string::npos) << r.output;

  const fs::path bad_message = write("bad-message.json", "[\"hi\"]");
  r = test::run_command(cli() + " chat " + quoted(test::bundled_model()) + " --messages " +
                        quoted(bad_message));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("message 0: expected an object"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("terminate called"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ortlm
