// Errors come back as a Status naming the template line; hostile templates
// (runaway recursion, huge ranges, output or memory blow-ups, cycles) fail
// cleanly instead of crashing or hanging.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "chat/template.h"

namespace ember::chat {
namespace {

using ::testing::HasSubstr;

Status compile_error(const std::string& src) {
  Result<Template> t = Template::compile(src);
  return t.ok() ? ok_status() : t.status();
}

Status render_error(const std::string& src, const nlohmann::ordered_json& vars = nlohmann::ordered_json::object(),
                    const RenderOptions& options = {}) {
  Result<Template> t = Template::compile(src);
  if (!t.ok()) return t.status();
  Result<std::string> r = t->render(vars, options);
  return r.ok() ? ok_status() : r.status();
}

TEST(JinjaErrorTest, SyntaxErrorsNameTheLine) {
  Status s = compile_error("line one\n{{ x }}\n{% for x in %}{% endfor %}");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("chat template line 3"));
  EXPECT_THAT(s.message(), HasSubstr("expected an expression"));

  s = compile_error("{% if true %}\nabc\n");
  EXPECT_THAT(s.message(), HasSubstr("unexpected end of template"));
  EXPECT_THAT(s.message(), HasSubstr("'endif'"));
  EXPECT_THAT(s.message(), HasSubstr("'if' on line 1"));

  s = compile_error("ok\n\n  {% frobnicate %}");
  EXPECT_THAT(s.message(), HasSubstr("line 3, column 6"));
  EXPECT_THAT(s.message(), HasSubstr("unknown tag 'frobnicate'"));

  EXPECT_THAT(compile_error("{{ 'unterminated }}").message(), HasSubstr("unterminated string"));
  EXPECT_THAT(compile_error("a\n{# never closed").message(), HasSubstr("line 2"));
  EXPECT_THAT(compile_error("{% raw %}no end").message(), HasSubstr("raw"));
  EXPECT_THAT(compile_error("{{ (1 }}").message(), HasSubstr("expected ')'"));
  EXPECT_THAT(compile_error("{{ [1) }}").message(), HasSubstr("unexpected ')', expected ']'"));
  EXPECT_THAT(compile_error("{{ 1 + }}").message(), HasSubstr("unexpected 'end of print statement'"));
  EXPECT_THAT(compile_error("{% break %}").message(), HasSubstr("'break' outside loop"));
  EXPECT_THAT(compile_error("{% macro m(a=1, b) %}{% endmacro %}").message(), HasSubstr("non-default argument"));
  EXPECT_THAT(compile_error("{{ x is defined is defined }}").message(), HasSubstr("line 1"));
  EXPECT_THAT(compile_error("{{ 99999999999999999999 }}").message(), HasSubstr("integer literal too large"));
  EXPECT_THAT(compile_error("{{ '\\x4' }}").message(), HasSubstr("truncated"));
  EXPECT_THAT(compile_error("{{ a ! b }}").message(), HasSubstr("unexpected char '!'"));
  EXPECT_EQ(compile_error("{% include 'x.jinja' %}").code(), StatusCode::kUnsupported);
  EXPECT_EQ(compile_error("{% extends 'base' %}").code(), StatusCode::kUnsupported);
}

TEST(JinjaErrorTest, RuntimeErrorsNameTheLine) {
  Status s = render_error("a\n\n   {{ x | foo }}", {{"x", 1}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("chat template line 3"));
  EXPECT_THAT(s.message(), HasSubstr("unknown filter 'foo'"));

  // Like jinja2 inside an if: only an error when it runs.
  EXPECT_TRUE(render_error("{% if false %}{{ x | foo }}{% endif %}").ok());

  EXPECT_THAT(render_error("{{ 1 is frob }}").message(), HasSubstr("unknown test 'frob'"));
  EXPECT_THAT(render_error("{{ x.y.z }}").message(), HasSubstr("'x' is undefined"));
  EXPECT_THAT(render_error("{{ m.content.strip() }}", {{"m", {{"role", "user"}}}}).message(),
              HasSubstr("dict object has no attribute 'content'"));
  EXPECT_THAT(render_error("{{ 'a' + 1 }}").message(), HasSubstr("can only concatenate str (not \"int\") to str"));
  EXPECT_THAT(render_error("{{ 1 / 0 }}").message(), HasSubstr("division by zero"));
  EXPECT_THAT(render_error("{{ 1 < 'a' }}").message(), HasSubstr("'<' not supported"));
  EXPECT_THAT(render_error("{% for x in 5 %}{% endfor %}").message(), HasSubstr("'int' object is not iterable"));
  EXPECT_THAT(render_error("{% set a, b = [1] %}").message(), HasSubstr("not enough values to unpack"));
  EXPECT_THAT(render_error("{% set x = 1 %}{% set x.y = 2 %}").message(), HasSubstr("non-namespace"));
  EXPECT_THAT(render_error("{{ {[1]: 2} }}").message(), HasSubstr("unhashable type: 'list'"));
  EXPECT_THAT(render_error("{{ x | tojson }}").message(), HasSubstr("Undefined is not JSON serializable"));
  EXPECT_THAT(render_error("{{ 5() }}").message(), HasSubstr("'int' object is not callable"));
  EXPECT_THAT(render_error("{{ 'abc'.split('') }}").message(), HasSubstr("empty separator"));
  EXPECT_EQ(render_error("{{ 9223372036854775807 + 1 }}").code(), StatusCode::kUnsupported);

  Result<Template> t = Template::compile("{{ x }}");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->render(nlohmann::ordered_json::array()).status().code(), StatusCode::kInvalidArgument);
}

TEST(JinjaErrorTest, RaiseExceptionCarriesTheMessage) {
  Status s = render_error(
      "{% for m in messages %}\n{% if m.role == 'tool' %}\n{{ raise_exception('Tool role not supported') }}\n"
      "{% endif %}{% endfor %}",
      {{"messages", {{{"role", "user"}}, {{"role", "tool"}}}}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "chat template line 3, column 4: raise_exception: Tool role not supported");
}

TEST(JinjaErrorTest, InfiniteMacroRecursionFails) {
  Status s = render_error("{% macro m(n) %}{{ m(n + 1) }}{% endmacro %}{{ m(0) }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("macro calls nested more than"));
  // Mutual recursion through caller() too.
  s = render_error("{% macro a() %}{{ caller is defined }}{% call a() %}x{% endcall %}{% endmacro %}{{ a() }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  // jinja2's argument checks: extras only when the body reads varargs / kwargs.
  EXPECT_THAT(render_error("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}").message(),
              HasSubstr("takes not more than 1 argument(s)"));
  EXPECT_THAT(render_error("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}").message(),
              HasSubstr("takes no keyword argument 'b'"));
}

TEST(JinjaErrorTest, DeepNestingFailsAtParse) {
  std::string parens = "{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}";
  EXPECT_THAT(compile_error(parens).message(), HasSubstr("nested more than"));
  std::string negs = "{{ " + std::string(5000, '-') + "1 }}";
  EXPECT_THAT(compile_error(negs).message(), HasSubstr("nested more than"));
  std::string lists = "{{ " + std::string(5000, '[') + std::string(5000, ']') + " }}";
  EXPECT_THAT(compile_error(lists).message(), HasSubstr("nested more than"));
  std::string ifs;
  for (int i = 0; i < 5000; ++i) ifs += "{% if true %}";
  EXPECT_THAT(compile_error(ifs).message(), HasSubstr("nested more than"));
  std::string filters = "{{ x" + std::string() ;
  for (int i = 0; i < 5000; ++i) filters += "|trim";
  filters += " }}";
  EXPECT_TRUE(compile_error(filters).ok() || compile_error(filters).code() == StatusCode::kInvalidArgument);
}

TEST(JinjaErrorTest, HugeRangeFails) {
  Status s = render_error("{{ range(1000000000) | length }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("range too big"));
  EXPECT_TRUE(render_error("{{ range(100000) | length }}").ok());
  EXPECT_EQ(render_error("{{ range(-9223372036854775807, 9223372036854775807) | length }}").code(),
            StatusCode::kResourceExhausted);
}

TEST(JinjaErrorTest, RunawayLoopsHitTheStepLimit) {
  RenderOptions options;
  options.limits.max_steps = 200000;
  Status s = render_error("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}", {},
                          options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("steps"));
}

TEST(JinjaErrorTest, OutputAndStringBlowUpsFail) {
  RenderOptions options;
  options.limits.max_output_bytes = 1 << 20;
  Status s = render_error("{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}", {}, options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("output exceeds"));

  s = render_error("{{ ('x' * 1000000) * 1000000 }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  s = render_error("{{ [1] * 9223372036854775807 }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  s = render_error("{{ '%999999999999s' % 'x' }}");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(render_error("{{ '%2000000000s' % 'x' }}").code(), StatusCode::kUnsupported);
  // One 1 MB string repeated in a list: printing it would be 100 MB.
  s = render_error("{% set s = 'x' * 1000000 %}{% set l = [s] * 100 %}{{ l | length }}{{ l }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  s = render_error("{% set s = 'x' * 1000000 %}{{ ([s] * 100) | tojson }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);

  options = RenderOptions();
  options.limits.max_memory_bytes = 16 << 20;
  s = render_error(
      "{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = ns.l + [i] %}{% endfor %}", {},
      options);
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(s.message(), HasSubstr("MiB"));
}

TEST(JinjaErrorTest, CyclesAndDeepValuesFail) {
  Status s = render_error("{% set ns = namespace() %}{% set ns.self = ns %}{{ ns }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  s = render_error("{% set l = [] %}{% set _ = l.append(l) %}{{ l | tojson }}");
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
  // Deeply nested input JSON is refused, not recursed into without bound.
  nlohmann::ordered_json deep = 1;
  for (int i = 0; i < 1000; ++i) deep = nlohmann::ordered_json::array({deep});
  s = render_error("{{ x | length }}", {{"x", deep}});
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted);
}

TEST(JinjaErrorTest, OddBytesAreJustText) {
  static const char kSrc[] = "a\0b\xff\xfe{{ '\xc3' }}\x80";
  std::string src(kSrc, sizeof kSrc - 1);
  Result<Template> t = Template::compile(src);
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  Result<std::string> r = t->render({});
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(*r, std::string("a\0b\xff\xfe\xc3\x80", 7));
  // Invalid UTF-8 keeps its bytes through code-point operations.
  r = Template::compile("{{ s[::-1] }}|{{ s | length }}")->render({{"s", "x"}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "x|1");
}

}  // namespace
}  // namespace ember::chat
