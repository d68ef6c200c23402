// Table-driven checks: a template, its variables (JSON) and the exact output
// Python jinja2 gave for them. Each mismatch is reported with the template.
#pragma once

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "chat/template.h"

namespace ember::chat {

struct JinjaCase {
  const char* tmpl;
  const char* vars;  // JSON object
  const char* expected;
};

template <size_t N>
void run_jinja_cases(const JinjaCase (&cases)[N]) {
  size_t passed = 0;
  for (const JinjaCase& c : cases) {
    Result<Template> t = Template::compile(c.tmpl);
    if (!t.ok()) {
      ADD_FAILURE() << "compile failed: " << t.status().to_string() << "\n  template: " << c.tmpl;
      continue;
    }
    Result<std::string> got = t->render(nlohmann::ordered_json::parse(c.vars));
    if (!got.ok()) {
      ADD_FAILURE() << "render failed: " << got.status().to_string() << "\n  template: " << c.tmpl;
      continue;
    }
    if (*got != c.expected) {
      ADD_FAILURE() << "template: " << c.tmpl << "\n  vars: " << c.vars << "\n  want: [" << c.expected
                    << "]\n  got:  [" << *got << "]";
      continue;
    }
    ++passed;
  }
  std::printf("%zu/%zu jinja2 cases identical\n", passed, N);
}

}  // namespace ember::chat
