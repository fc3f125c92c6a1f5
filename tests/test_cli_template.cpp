// `ortlm template` end to end: exact output (no newline added), the fallback, and template errors.
#include <gtest/gtest.h>

#include <fstream>

#include "test_support.hpp"

namespace ortlm {
namespace {
namespace fs = std::filesystem;

class CliTemplate : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("ortlm-cli-template-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "messages.json") << R"([{"role": "system", "content": "Be kind."},
      {"role": "user", "content": "Héllo 👋"}])";
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path model_with_template(const std::string& template_json_string) {
    const fs::path model = dir_ / "model";
    fs::create_directories(model);
    std::ofstream(model / "tokenizer_config.json")
        << R"({"bos_token": "<s>", "eos_token": {"content": "</s>"}, "chat_template": )"
        << template_json_string << "}";
    return model;
  }
  test::CommandResult render(const fs::path& model, const std::string& extra = "") {
    return test::run_command(std::string(ORTLM_CLI) + " template '" + model.string() + "' --messages '" +
                             (dir_ / "messages.json").string() + "' " + extra);
  }
  fs::path dir_;
};

TEST_F(CliTemplate, RendersExactlyWithoutAddingANewline) {
  const auto model = model_with_template(
      R"("{{ bos_token }}{% for m in messages %}[{{ m.role }}]{{ m.content }}{% endfor %}{% if add_generation_prompt %}[assistant]{{ eos_token }}{% endif %}")");
  auto r = render(model);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "<s>[system]Be kind.[user]Héllo 👋");
  r = render(model, "--add-generation-prompt");
  EXPECT_EQ(r.output, "<s>[system]Be kind.[user]Héllo 👋[assistant]</s>");
}

TEST_F(CliTemplate, ExtraKeywordArguments) {
  const auto model = model_with_template(R"("{% if enable_thinking %}think{% else %}no{% endif %}")");
  EXPECT_EQ(render(model, "--kwargs '{\"enable_thinking\": true}'").output, "think");
  EXPECT_EQ(render(model, "--kwargs '{\"enable_thinking\": false}'").output, "no");
}

TEST_F(CliTemplate, BundledModelUsesTheDocumentedFallback) {
  const auto r = render(test::bundled_model(), "--add-generation-prompt");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "system: Be kind.\nuser: Héllo 👋\nassistant: ");
}

TEST_F(CliTemplate, TemplateErrorsExitOneWithTheMessage) {
  auto r = render(model_with_template(R"("{{ raise_exception('roles must alternate') }}")"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("roles must alternate"), std::string::npos) << r.output;
  r = render(model_with_template(R"("{% for m in messages %}{{ m.content | nosuchfilter }}{% endfor %}")"));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.output.find("nosuchfilter"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(":1:"), std::string::npos) << "line number expected: " << r.output;
}

}  // namespace
}  // namespace ortlm
