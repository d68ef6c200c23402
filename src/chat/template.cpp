#include "chat/template.h"

#include <new>

#include "chat/ast.h"
#include "chat/evaluator.h"
#include "chat/lexer.h"
#include "chat/parser.h"
#include "chat/scope_analysis.h"
#include "chat/template_error.h"
#include "chat/value_format.h"

namespace ember::chat {

struct Template::Program {
  Body body;
  FrameLocals locals;
};

namespace {

// jinja2 treats \r\n, \r and \n alike and drops one trailing newline unless
// keep_trailing_newline.
std::string normalize_newlines(std::string_view source, bool keep_trailing_newline) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if (c == '\r') {
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
      out.push_back('\n');
    } else {
      out.push_back(c);
    }
  }
  if (!keep_trailing_newline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

Value to_value(Evaluator& ev, const nlohmann::ordered_json& j, int depth) {
  if (depth > kMaxValueDepth) throw_limit("input JSON nested more than " + std::to_string(kMaxValueDepth) + " deep");
  switch (j.type()) {
    case nlohmann::ordered_json::value_t::null: return Value::none();
    case nlohmann::ordered_json::value_t::boolean: return Value::boolean(j.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value::integer(j.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
      uint64_t u = j.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX)) return Value::number(static_cast<double>(u));
      return Value::integer(static_cast<int64_t>(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value::number(j.get<double>());
    case nlohmann::ordered_json::value_t::string: {
      const auto& s = j.get_ref<const std::string&>();
      ev.charge_string(s.size());
      return Value::string(s);
    }
    case nlohmann::ordered_json::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& item : j) items.push_back(to_value(ev, item, depth + 1));
      return ev.make_list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
      DictObject* d = ev.make_dict();
      for (const auto& [k, v] : j.items()) ev.dict_set(d, Value::string(k), to_value(ev, v, depth + 1));
      return Value::dict(d);
    }
    default: throw_error("unsupported JSON value (binary) in template input");
  }
}

Status internal_failure(const char* what) {
  return internal_error(std::string("chat template: unexpected failure: ") + what);
}

}  // namespace

Result<Template> Template::compile(std::string_view source, const TemplateOptions& options) {
  try {
    std::string normalized = normalize_newlines(source, options.keep_trailing_newline);
    LexerOptions lex_options{options.trim_blocks, options.lstrip_blocks};
    Lexer lexer(normalized, lex_options);
    Parser parser(lexer.tokenize());
    auto program = std::make_shared<Program>();
    program->body = parser.parse();
    program->locals = ScopeAnalysis::analyze(program->body);
    return Template(std::move(program));
  } catch (const TemplateError& e) {
    return e.to_status();
  } catch (const std::bad_alloc&) {
    return resource_exhausted("chat template: out of memory while compiling");
  } catch (const std::exception& e) {
    return internal_failure(e.what());
  }
}

Result<std::string> Template::render(const nlohmann::ordered_json& variables, const RenderOptions& options) const {
  if (!variables.is_object() && !variables.is_null()) {
    return invalid_argument("chat template: render variables must be a JSON object");
  }
  try {
    Arena arena(options.limits.max_memory_bytes);
    Evaluator ev(options, arena);
    if (variables.is_object()) {
      for (const auto& [name, value] : variables.items()) ev.set_global(name, to_value(ev, value, 0));
    }
    return ev.render(program_->body, program_->locals);
  } catch (const TemplateError& e) {
    return e.to_status();
  } catch (const std::bad_alloc&) {
    return resource_exhausted("chat template: out of memory while rendering");
  } catch (const std::length_error&) {
    return resource_exhausted("chat template: a string or list grew too large");
  } catch (const std::exception& e) {
    return internal_failure(e.what());
  }
}

}  // namespace ember::chat
