// `ember tokenize`: text -> token ids with the model's tokenizer (only the
// tokenizer files are read: tokenizer.json + tokenizer_config.json, or a GGUF).
#include <cstdio>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "engine/tokenizer_loader.h"

namespace ember::app {
namespace {

std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? " " : "") + std::to_string(ids[i]);
  return s;
}

// {"text": str, "add_special_tokens": bool} per line -> {"ids": [...]}; a bad
// line gets {"error": "..."} so the output stays one line per input line.
int tokenize_jsonl(const tokenizer::Tokenizer& tok, bool parse_special) {
  std::string line;
  int failures = 0;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    nlohmann::json out;
    nlohmann::json in = nlohmann::json::parse(line, nullptr, false);
    if (in.is_discarded() || !in.is_object() || !in.contains("text") || !in["text"].is_string()) {
      out["error"] = "line " + std::to_string(n) + ": expected {\"text\": string, \"add_special_tokens\": bool}";
    } else if (in.contains("add_special_tokens") && !in["add_special_tokens"].is_boolean()) {
      out["error"] = "line " + std::to_string(n) + ": add_special_tokens must be true or false";
    } else {
      const bool add = in.value("add_special_tokens", true);
      auto ids = tok.encode(in["text"].get<std::string>(), {.add_special_tokens = add, .parse_special = parse_special});
      if (ids.ok()) {
        out["ids"] = *ids;
      } else {
        out["error"] = "line " + std::to_string(n) + ": " + ids.status().message();
      }
    }
    if (out.contains("error")) ++failures;
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  }
  std::cout.flush();
  return failures ? 1 : 0;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  CliArgs args("tokenize", "Prints the token ids of TEXT (or of standard input) as the model's tokenizer encodes them.");
  args.positional("MODEL", "model directory (tokenizer.json is enough) or .gguf file");
  args.positional("TEXT", "the text; read from standard input when absent", false);
  args.flag("no-special", "do not add the tokenizer's special tokens (BOS), like add_special_tokens=False");
  args.flag("plain-special", "treat special tokens written in the text (e.g. <think>) as plain text");
  args.flag("tokens", "print each token's string next to its id, one per line");
  args.flag("jsonl", "read {\"text\", \"add_special_tokens\"} lines on stdin, write {\"ids\"} lines");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  auto mt = engine::load_model_tokenizer(args.positional_at(0));
  if (!mt.ok()) return report_error("tokenize", mt.status().to_string().c_str());
  const tokenizer::Tokenizer& tok = *mt->tokenizer;
  const bool parse_special = !args.has("plain-special");
  if (args.has("jsonl")) return tokenize_jsonl(tok, parse_special);

  std::string text;
  if (args.positionals().size() > 1) {
    text = args.positional_at(1);
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  auto ids = tok.encode(text, {.add_special_tokens = !args.has("no-special"), .parse_special = parse_special});
  if (!ids.ok()) return report_error("tokenize", ids.status().to_string().c_str());
  if (args.has("tokens")) {
    for (int32_t id : *ids) {
      const nlohmann::json t = tok.token_text(id);
      std::printf("%d\t%s\n", id, t.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    }
  } else {
    std::printf("%s\n", join_ids(*ids).c_str());
  }
  return 0;
}

}  // namespace ember::app
