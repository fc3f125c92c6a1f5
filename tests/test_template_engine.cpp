// Unit tests of the Jinja engine: each construct (expected outputs produced by @huggingface/jinja
// 0.5.11), the extensions, error messages with line:column, and the limits.
#include <gtest/gtest.h>

#include <string>

#include "ortlm/chat_template.hpp"
#include "ortlm/error.hpp"
#include "template/template.hpp"
#include "test_support.hpp"

namespace {

std::string render(const std::string& source, const std::string& context = "{}",
                   ortlm::tpl::Limits limits = {}) {
  return ortlm::tpl::Template(source).render(nlohmann::ordered_json::parse(context), limits);
}

std::string error_of(const std::string& source, const std::string& context = "{}",
                     ortlm::tpl::Limits limits = {}) {
  return ortlm::test::error_message([&] { render(source, context, limits); });
}

struct Case {
  const char* source;
  const char* context;
  const char* expected;
};

// Verified with @huggingface/jinja (new Template(source).render(context)).
const Case kReferenceCases[] = {
    {"{{ 1 + 2 * 3 }}|{{ (1 + 2) * 3 }}|{{ 7 // 2 }}|{{ -7 // 2 }}|{{ 7 % 3 }}|{{ -7 % 3 }}|{{ 2 ** 10 }}|{{ "
     "7 / 2 }}|{{ 6 / 2 }}",
     "{}", "7|9|3|-4|1|-1|1024|3.5|3.0"},
    {"{{ 1.5 + 1 }}|{{ 0.1 + 0.2 }}|{{ -0.0 }}|{{ 3.0 * 2 }}|{{ 1 / 3 }}|{{ 123456789.125 }}|{{ 0.000001 "
     "}}|{{ 0.0000001 }}",
     "{}", "2.5|0.30000000000000004|-0.0|6.0|0.3333333333333333|123456789.125|0.000001|1e-7"},
    {"{{ 'a' ~ 1 ~ 1.0 ~ true ~ [1, 2] }}|{{ 'a' + 1 }}|{{ 'x' * 0 if false else 'y' }}", "{}",
     "a11true1,2|a1|y"},
    {"{{ true }} {{ false }} {{ none }} {{ True }} {{ None }}|{{ [1, 'a', true, none] }}|{{ {'k': 'v', 'n': "
     "1.5} }}",
     "{}", "true false  true |[1, \"a\", true, null]|{\"k\": \"v\", \"n\": 1.5}"},
    {"{{ 'abc' in 'xabcx' }} {{ 'z' not in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 1 in "
     "undefined_thing }}",
     "{}", "true true true true false"},
    {"{{ x is defined }} {{ y is undefined }} {{ x is none }} {{ n is number }} {{ n is integer }} {{ s is "
     "string }} {{ l is iterable }} {{ d is mapping }} {{ n is odd }} {{ n is even }} {{ b is boolean }} {{ "
     "b is true }} {{ s is lower }} {{ s is upper }}",
     "{\"x\": null, \"n\": 3, \"s\": \"abc\", \"l\": [1], \"d\": {\"a\": 1}, \"b\": true}",
     "true true true true true true true true true false true true true false"},
    {"{{ 1 == 1.0 }} {{ 'a' == 'a' }} {{ none == undefined_var }} {{ 1 != 2 }} {{ 1 < 2 }} {{ 2 >= 3 }} {{ "
     "not true }} {{ true and 'x' }} {{ '' or 'default' }} {{ [] or 'empty' }}",
     "{}", "true true true true true false false x default empty"},
    {"{{ 'yes' if 1 > 2 else 'no' }}|{{ 'a' if false }}|{{ 1 if false else 2 if true else 3 }}", "{}",
     "no||2"},
    {"{{ l[0] }} {{ l[-1] }} {{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[::2] }} {{ s[1:4] }} {{ s[-2:] }} {{ "
     "s[::-1] }} {{ d.a }} {{ d['b'] }} {{ d.missing is defined }}",
     "{\"l\": [1, 2, 3, 4], \"s\": \"héllo wörld\", \"d\": {\"a\": 1, \"b\": \"two\"}}",
     "1 4 [2, 3, 4] [1, 2] [4, 3, 2, 1] [1, 3] éll ld dlröw olléh 1 two false"},
    {"{{ '  x  ' | trim }}|{{ 'abc' | upper }}|{{ 'ABC' | lower }}|{{ 'hello world-wide' | title }}|{{ "
     "'hELLO' | capitalize }}|{{ 'abc' | length }}|{{ [1,2] | length }}|{{ {'a':1} | length }}",
     "{}", "x|ABC|abc|Hello World-Wide|HELLO|3|2|1"},
    {"{{ [3, 1, 2] | sort }}|{{ [3, 1, 2] | sort(reverse=true) }}|{{ ['b', 'A', 'c'] | sort }}|{{ [1, 2, 2, "
     "3, 1] | unique }}|{{ [1, 2] | reverse }}|{{ [1, 2, 3] | first }}|{{ [1, 2, 3] | last }}|{{ [1, 'a'] | "
     "join }}|{{ ['a', 'b'] | join(', ') }}",
     "{}", "[1, 2, 3]|[3, 2, 1]|[\"A\", \"b\", \"c\"]|[1, 2, 3]|[2, 1]|1|3|1a|a, b"},
    {"{{ items | selectattr('on') | map(attribute='n') | list }}|{{ items | rejectattr('on') | "
     "map(attribute='n') | join(',') }}|{{ items | selectattr('n', 'equalto', 'b') | list | length }}|{{ "
     "items | sort(attribute='n', reverse=true) | map(attribute='n') | join }}",
     "{\"items\": [{\"n\": \"a\", \"on\": true}, {\"n\": \"b\", \"on\": false}, {\"n\": \"c\", \"on\": "
     "true}]}",
     "[\"a\", \"c\"]|b|1|cba"},
    {"{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ d | tojson(sort_keys=true) }}|{{ d | "
     "tojson(separators=(',', ':')) }}|{{ 'é€😀' | tojson }}|{{ 'é€😀' | tojson(ensure_ascii=true) }}|{{ [] | "
     "tojson(indent=2) }}|{{ 1.0 | tojson }}",
     "{\"d\": {\"z\": [1, {\"y\": null}], \"a\": \"q\\\"\\n\\t\\u0001\"}}",
     "{\"z\": [1, {\"y\": null}], \"a\": \"q\\\"\\n\\t\\u0001\"}|{\n  \"z\": [\n    1,\n    {\n      \"y\": "
     "null\n    }\n  ],\n  \"a\": \"q\\\"\\n\\t\\u0001\"\n}|{\"a\": \"q\\\"\\n\\t\\u0001\", \"z\": [1, "
     "{\"y\": "
     "null}]}|{\"z\":[1,{\"y\":null}],\"a\":\"q\\\"\\n\\t\\u0001\"}|\"é€😀\"|\"\\u00e9\\u20ac\\ud83d\\ude00\"|"
     "[]|1"},
    {"{{ x | default('dflt') }}|{{ '' | default('e', true) }}|{{ 0 | default('z') }}|{{ '3.5' | float }}|{{ "
     "'12abc' | int }}|{{ 'abc' | int }}|{{ 3.9 | int }}|{{ -3 | abs }}|{{ 5 | string }}|{{ 2.0 | string "
     "}}|{{ true | string }}",
     "{}", "dflt|e|0|3.5|12|0|3|3|5|2.0|true"},
    {"{{ 'line1\nline2\n\nline4' | indent }}|{{ 'a\nb' | indent(2, true) }}|{{ d | items | list }}|{{ d | "
     "dictsort }}|{{ 'a b c' | replace(' ', '-') }}",
     "{\"d\": {\"b\": 2, \"a\": 1}}",
     "line1\n    line2\n\n    line4|  a\n  b|[[\"b\", 2], [\"a\", 1]]|[[\"a\", 1], [\"b\", 2]]|a-b-c"},
    {"{{ s.split() }}|{{ s.split(',') }}|{{ s.split(',', 1) }}|{{ s.strip() }}|{{ s.startswith('  a') }}|{{ "
     "s.endswith(('x', ' ')) }}|{{ s.replace('a', 'A', 1) }}|{{ s.upper() }}|{{ s.title() }}",
     "{\"s\": \"  a,b  c,d \"}",
     "[\"a,b\", \"c,d\"]|[\"  a\", \"b  c\", \"d \"]|[\"  a\", \"b  c,d \"]|a,b  c,d|true|true|  A,b  c,d |  "
     "A,B  C,D |  A,B  C,D "},
    {"{{ d.get('a') }}|{{ d.get('zz', 'fallback') }}|{{ d.get('zz') }}|{{ d.keys() | list }}|{{ d.values() | "
     "list }}|{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
     "{\"d\": {\"a\": 1, \"b\": [2]}}", "1|fallback||[\"a\", \"b\"]|[1, [2]]|a=1;b=[2];"},
    {"{% for x in xs %}{{ loop.index }}/{{ loop.index0 }}/{{ loop.revindex }}/{{ loop.revindex0 }}/{{ "
     "loop.first }}/{{ loop.last }}/{{ loop.length }}/{{ loop.previtem }}/{{ loop.nextitem }} {% endfor %}",
     "{\"xs\": [\"a\", \"b\", \"c\"]}",
     "1/0/3/2/true/false/3//b 2/1/2/1/false/false/3/a/c 3/2/1/0/false/true/3/b/ "},
    {"{% for x in xs if x > 1 %}{{ x }}{% else %}none{% endfor %}|{% for x in [] %}{{ x }}{% else %}empty{% "
     "endfor %}|{% for x in xs %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif "
     "%}{{ x }}{% endfor %}",
     "{\"xs\": [1, 2, 3, 4, 5]}", "2345|empty|13"},
    {"{% set a = 1 %}{% set b, c = [2, 3] %}{{ a }}{{ b }}{{ c }}|{% set ns = namespace(v=0) %}{% for i in "
     "range(4) %}{% set ns.v = ns.v + i %}{% endfor %}{{ ns.v }}|{% set block %}in {{ a }} block{% endset "
     "%}{{ block }}|{% for i in range(3) %}{% set a = i %}{% endfor %}{{ a }}",
     "{}", "123|6|in 1 block|1"},
    {"{% macro greet(name, greeting='Hello', punct='!') %}{{ greeting }}, {{ name }}{{ punct }}{% endmacro "
     "%}{{ greet('Ann') }} {{ greet('Bob', 'Hi') }} {{ greet('Cy', punct='?') }}",
     "{}", "Hello, Ann! Hi, Bob! Hello, Cy?"},
    {"{% macro box(t) %}<{{ t }}>{{ caller() }}</{{ t }}>{% endmacro %}{% call box('b') %}inner {{ 1 + 1 "
     "}}{% endcall %}|{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% "
     "call(v) each([1, 2]) %}[{{ v }}]{% endcall %}",
     "{}", "<b>inner 2</b>|[1][2]"},
    {"{% filter upper %}shout {{ 'it' }}{% endfilter %}|{# a comment #}x  {#- trimmed -#}  y|{{ range(3) | "
     "list }}|{{ range(1, 10, 3) | list }}|{{ range(5, 0, -2) | list }}",
     "{}", "SHOUT IT|xy|[0, 1, 2]|[1, 4, 7]|[5, 3, 1]"},
    {"a  {%- if true -%}  b  {%- endif -%}  c|{{- '  x  ' -}}|  {{ 'y' }}", "{}", "abc|  x  |  y"},
    {"line1\n  {% if true %}\n  kept\n  {% endif %}\nline2\n", "{}", "line1\n  kept\nline2"},
    {"{{ 'a\\tb\\n\\\\\\'\\\"\\x41\\u00e9' }}|{{ \"dq 'inner'\" }}|{{ 'con' 'cat' }}", "{}",
     "a\tb\n\\'\"Aé|dq 'inner'|concat"},
};

TEST(TemplateEngine, MatchesReferenceOnEachConstruct) {
  for (const auto& c : kReferenceCases) EXPECT_EQ(render(c.source, c.context), c.expected) << c.source;
}

TEST(TemplateEngine, GenerationTagsAreRemoved) {
  EXPECT_EQ(render("a {% generation %}b{% endgeneration %} c"), "a b c");
  EXPECT_EQ(render("a {%- generation -%} b"), "ab");
}

TEST(TemplateEngine, Extensions) {
  // Beyond @huggingface/jinja (which rejects these), with Python Jinja's meaning.
  EXPECT_EQ(render("{{ 6 is divisibleby(3) }} {{ 2 is in([1, 2]) }} {{ 'ab' is startingwith('a') }}"),
            "true true true");
  EXPECT_EQ(render("{{ ['a', 'b'] | map('upper') | join }} {{ [1, 2, 3] | sum }} {{ [3, 1] | max }}"),
            "AB 6 3");
  EXPECT_EQ(render("{{ [1, 0, 2] | select | list }} {{ [1, 2, 3, 4] | batch(3) | list }}"),
            "[1, 2] [[1, 2, 3], [4]]");
  EXPECT_EQ(render("{% set l = [1] %}{% set _ = l.append(2) %}{{ l }} {{ l.pop() }} {{ l }}"),
            "[1, 2] 2 [1]");
  EXPECT_EQ(render("{{ 'a-b-c'.rsplit('-', 1) }} {{ '{} is {x}'.format(1, x=2) }} {{ 'abc'.find('c') }}"),
            "[\"a-b\", \"c\"] 1 is 2 2");
  EXPECT_EQ(render("{% for c in 'ab' %}{{ c }}.{% endfor %} {{ 'ab' < 'b' }} {{ '-' * 3 }}"),
            "a.b. true ---");
  EXPECT_EQ(render("{% for x in [1, 2, 3] %}{{ loop.cycle('o', 'e') }}{% endfor %}"), "oeo");
  EXPECT_EQ(render("{{ 2.567 | round(2) }} {{ 'hello world' | wordcount }} {{ 'x' | center(5) }}|"),
            "2.57 2   x  |");
  EXPECT_EQ(render("{{ x | d('dflt') }} {{ '<b>bold</b>  text' | striptags }}"), "dflt bold text");
}

TEST(TemplateEngine, SyntaxErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("hello\n{{ 1 + }}"), "template:2:8: Unexpected token '}}'");
  EXPECT_EQ(error_of("{% if x %}\n  unterminated"),
            "template:2:15: Unexpected end of template, expected '{% endif %}'");
  EXPECT_EQ(error_of("{% frobnicate %}"), "template:1:4: Unknown statement type: frobnicate");
  EXPECT_EQ(error_of("{{ 'abc }}"), "template:1:4: Unexpected end of input");
  EXPECT_EQ(error_of("ok {{ a ! b }}"), "template:1:9: Unexpected character: !");
  EXPECT_EQ(error_of("{# never closed"), "template:1:1: Missing end of comment tag");
  EXPECT_EQ(error_of("{{ '\\q' }}"), "template:1:5: Unexpected escaped character: q");
  EXPECT_EQ(error_of("{{ 99999999999999999999 }}"),
            "template:1:4: Number literal out of range: 99999999999999999999");
  EXPECT_EQ(error_of("{{ '\xff' }}"), "template:1:5: invalid UTF-8 in template");
}

TEST(TemplateEngine, RuntimeErrorsNameLineAndColumn) {
  EXPECT_EQ(error_of("line one\n  {{ 'x' | foo }}"), "template:2:10: Unknown StringValue filter: foo");
  EXPECT_EQ(error_of("{{ raise_exception('bad role') }}"), "template:1:4: bad role");
  EXPECT_EQ(error_of("{{ x is frob }}"), "template:1:6: Unknown test: frob");
  EXPECT_EQ(error_of("{{ 1 + none }}"), "template:1:6: Cannot perform operation on null values");
  EXPECT_EQ(error_of("{{ 1 // 0 }}"), "template:1:6: integer division or modulo by zero");
  EXPECT_EQ(error_of("{{ 9223372036854775807 + 1 }}"), "template:1:24: integer overflow");
  EXPECT_EQ(error_of("{% break %}"), "template: 'break' outside of a loop");
  EXPECT_EQ(error_of("{{ x() }}"),
            "template:1:4: Cannot call something that is not a function: got UndefinedValue");
}

TEST(TemplateEngine, LimitsStopRunawayTemplates) {
  // Endless macro recursion, huge ranges, exponential strings, deep nesting: errors, never crashes.
  EXPECT_NE(error_of("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}").find("recursion too deep"),
            std::string::npos);
  EXPECT_NE(error_of("{{ range(100000000) | length }}").find("exceeds the limit"), std::string::npos);
  ortlm::tpl::Limits small;
  small.max_output = 1000;
  EXPECT_NE(error_of("{% for i in range(100) %}{{ 'xxxxxxxxxxxxxxxxxxxx' }}{% endfor %}", "{}", small)
                .find("rendered output exceeds"),
            std::string::npos);
  EXPECT_NE(error_of("{% set ns = namespace(s='xx') %}{% for i in range(100) %}{% set ns.s = ns.s ~ ns.s %}"
                     "{% endfor %}")
                .find("rendered output exceeds"),
            std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(10000, '(') + "1" + std::string(10000, ')') + " }}")
                .find("nested too deeply"),
            std::string::npos);
  EXPECT_NE(error_of("{{ " + std::string(5000, '-') + "1 }}").find("nested too deeply"), std::string::npos);
  EXPECT_NE(error_of("{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
                     "{% endfor %}{% endfor %}{% endfor %}")
                .find("the render would hold more than"),  // each range() is kept: memory ends it first
            std::string::npos);
  EXPECT_NE(
      error_of("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns | tojson }}").find("nested too deeply"),
      std::string::npos);
}

TEST(TemplateEngine, ContextVariablesCannotShadowGlobals) {
  EXPECT_EQ(error_of("{{ 1 }}", R"({"range": 1})"), "template variable 'range' is already declared");
}

TEST(ChatTemplate, FallbackRendersRoleAndContent) {
  auto chat = ortlm::ChatTemplate::fallback();
  auto messages = nlohmann::ordered_json::parse(
      R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": [{"type": "text", "text": "Hi"}]}])");
  ortlm::ChatTemplateOptions options;
  EXPECT_EQ(chat.render(messages, options), "system: Be brief.\nuser: Hi\n");
  options.add_generation_prompt = true;
  EXPECT_EQ(chat.render(messages, options), "system: Be brief.\nuser: Hi\nassistant: ");
  EXPECT_TRUE(chat.is_fallback());
}

}  // namespace
