// Template: a Jinja template compiled once (lex + parse into an immutable
// tree) and rendered any number of times, from any number of threads at once.
// Semantics follow Python jinja2 3.1 configured the way transformers compiles
// chat templates (sandboxed, trim_blocks, lstrip_blocks, loop controls,
// raise_exception, strftime_now, a tojson that keeps non-ASCII).
//
//   EMBER_ASSIGN_OR_RETURN(Template t, Template::compile("Hi {{ name }}!"));
//   EMBER_ASSIGN_OR_RETURN(std::string s, t.render({{"name", "Ann"}}));
//
// Errors (syntax, unknown filter, type errors, raise_exception, limits) come
// back as a Status whose message names the template line:
// "chat template line 3, column 7: unknown filter 'foo'".
//
// Not supported: ints beyond 64 bits (overflow is a kUnsupported error);
// include / extends / import (kUnsupported); the filters wordwrap, urlize,
// urlencode, xmlattr, filesizeformat, random; format specs in str.format;
// \N{...} escapes. Case mapping knows Latin, Greek, Cyrillic, Armenian,
// Georgian and fullwidth letters. Deliberate differences from jinja2's
// sandbox: list.append works, map/select/... return lists (not generators),
// and builtin objects (methods, range(), dict views) print differently.
// {% generation %} renders its body; {% block %} renders in place.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/render_options.h"

namespace ember::chat {

struct Stmt;

class Template {
 public:
  static Result<Template> compile(std::string_view source, const TemplateOptions& options = {});

  // `variables` must be a JSON object (or null); each key becomes a template
  // variable. ordered_json keeps key order, which tojson and dict iteration
  // show, as in Python.
  Result<std::string> render(const nlohmann::ordered_json& variables,
                             const RenderOptions& options = {}) const;

 private:
  struct Program;
  explicit Template(std::shared_ptr<const Program> program) : program_(std::move(program)) {}
  std::shared_ptr<const Program> program_;
};

}  // namespace ember::chat
