// Hostile chat templates and chat input through the CLI (`ortlm template`, `ortlm chat`): a model's
// own template is untrusted input, so whatever it does must end in a clean `ortlm: error:` exit.
#include <algorithm>

#include "hostile/hostile_support.hpp"

namespace ortlm::hostile {
namespace {

constexpr const char* kOverBudget = "the render would hold more than";

// A 60 MB string made inside the template from a small one, then kept 200 times (issue 8.3: 4.7 GB).
const std::string kListGrowth =
    "{% set big = 'abcdefghij' * 6000000 %}{% set items = [] %}\n"
    "{% for i in range(200) %}{% set _ = items.append(big) %}{% endfor %}{{ items | length }}";
const std::string kDictGrowth =
    "{% set big = 'abcdefghij' * 6000000 %}{% set d = {} %}\n"
    "{% for i in range(200) %}{% set _ = d.update({('k' ~ i): big}) %}{% endfor %}{{ d | length }}";
const std::string kNamespaceGrowth =
    "{% set big = 'abcdefghij' * 6000000 %}{% set ns = namespace(parts=[]) %}\n"
    "{% for m in messages %}{% for i in range(100) %}{% set ns.parts = ns.parts + [big ~ m.content] %}"
    "{% endfor %}{% endfor %}{{ ns.parts | length }}";

fs::path conversation(const fs::path& dir) {
  const fs::path path = dir / "conv.json";
  write_json(path, nlohmann::json::array({{{"role", "user"}, {"content", "Hello"}}}));
  return path;
}

// Runs `ortlm template` and `ortlm chat --messages` on `model` and expects the same clean error.
void expect_both_fail(const fs::path& model, const std::string& needle) {
  const fs::path conv = conversation(model);
  SCOPED_TRACE(model.string());
  expect_clean_error(run_ortlm({"template", model.string(), "--messages", conv.string()}), needle);
  expect_clean_error(run_ortlm({"chat", model.string(), "--messages", conv.string(), "-n", "4"}), needle);
}

TEST(HostileTemplate, ListGrownToGigabytesInChatTemplateJinja) {
  const fs::path model = copy_of_bundled_model("list-growth");
  write_file(model / "chat_template.jinja", kListGrowth);
  expect_both_fail(model, kOverBudget);
  // The error names the template's file, line and column.
  const auto outcome = run_ortlm({"template", model.string(), "--messages", conversation(model).string()});
  EXPECT_NE(outcome.err.find("chat_template.jinja:2:"), std::string::npos) << describe(outcome);
}

TEST(HostileTemplate, DictGrownInTokenizerConfigTemplate) {
  const fs::path model = copy_of_bundled_model("dict-growth");
  nlohmann::json config = read_json(model / "tokenizer_config.json");
  config["chat_template"] = kDictGrowth;
  write_json(model / "tokenizer_config.json", config);
  expect_both_fail(model, kOverBudget);
}

TEST(HostileTemplate, NamespaceGrownInChatTemplateJson) {
  const fs::path model = copy_of_bundled_model("namespace-growth");
  write_json(model / "chat_template.json", {{"chat_template", kNamespaceGrowth}});
  expect_both_fail(model, kOverBudget);
}

TEST(HostileTemplate, HugeSizesAndExponents) {
  const fs::path model = copy_of_bundled_model("huge-sizes");
  for (const char* source : {"{{ 'ab' | center(9223372036854775807) }}", "{{ 'ab' * 9223372036854775807 }}",
                             "{{ messages | tojson(indent=1000000000000) }}"}) {
    write_file(model / "chat_template.jinja", source);
    expect_both_fail(model, "rendered output exceeds");
  }
  write_file(model / "chat_template.jinja", "{{ 2 ** 64 }}");
  expect_both_fail(model, "integer overflow");
  // Once a loop of 10^12 multiplications.
  write_file(model / "chat_template.jinja", "{{ 1 ** 1000000000000 }}");
  const auto outcome = run_ortlm({"template", model.string(), "--messages", conversation(model).string()});
  expect_success(outcome);
  EXPECT_EQ(outcome.out, "1");
}

TEST(HostileTemplate, InvalidUtf8ChatLineNamesTheOffsetAndTheSessionGoesOn) {
  RunOptions options;
  options.stdin_data = "caf\xE9 au lait\nHello\n";
  const auto outcome = run_ortlm({"chat", test::bundled_model().string(), "--greedy", "-n", "4"}, options);
  expect_success(outcome);
  EXPECT_NE(outcome.err.find("ortlm: error: input line is not valid UTF-8 at byte offset 3"),
            std::string::npos)
      << describe(outcome);
  // One reply, to the valid line.
  EXPECT_EQ(std::count(outcome.out.begin(), outcome.out.end(), '\n'), 1) << describe(outcome);
}

}  // namespace
}  // namespace ortlm::hostile
