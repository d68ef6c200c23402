// `ember chat`: an interactive multi-turn chat in the terminal on the serving
// engine. Replies stream as they are generated, the reasoning dimmed (or
// hidden with --hide-reasoning); Ctrl-C stops the current reply; /reset,
// /system TEXT, /help and /exit (or end of input) at the prompt.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <string>

#include "app/chat_session.h"
#include "app/commands.h"
#include "app/generation_stream.h"
#include "app/model_flags.h"
#include "app/sampling_flags.h"
#include "hub/resolve.h"
#include "chat/reasoning_parser.h"

namespace ember::app {
namespace {

constexpr const char* kHelp =
    "commands: /reset (new conversation), /system TEXT (set the system prompt and reset), "
    "/help, /exit (or Ctrl-D). Ctrl-C stops a reply.\n";

struct Style {
  bool color = false;
  const char* dim() const { return color ? "\x1b[2m" : ""; }
  const char* reset() const { return color ? "\x1b[0m" : ""; }
  const char* bold() const { return color ? "\x1b[1m" : ""; }
};

void print(const std::string& s) {
  std::fwrite(s.data(), 1, s.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  CliArgs args("chat", "Chats with the model in the terminal: multi-turn, streamed, with the reasoning shown dimmed.");
  args.positional("MODEL", "model directory, .gguf file, or Hugging Face repo id (ORG/NAME[:FILE.gguf]; downloaded unless cached)");
  args.option("system", "TEXT", "a system prompt for the conversation");
  args.option("chat-template", "FILE", "a Jinja chat template instead of the model's");
  args.flag("hide-reasoning", "do not print the model's reasoning");
  args.flag("no-color", "no ANSI colors, even on a terminal");
  add_sampling_flags(args);
  add_model_flags(args);
  add_engine_flags(args);
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;

  auto resolved = hub::resolve_model(args.positional_at(0), hub::HubOptions::from_env());
  if (!resolved.ok()) return report_error("chat", resolved.status().message().c_str());
  const std::string model_path = *resolved;
  auto config = engine_config_from_flags(args, model_path);
  if (!config.ok()) return report_error("chat", config.status().to_string().c_str());
  auto mt = engine::load_model_tokenizer(model_path);
  if (!mt.ok()) return report_error("chat", mt.status().to_string().c_str());
  auto session = ChatSession::create(*mt, args.get("chat-template"));
  if (!session.ok()) return report_error("chat", session.status().to_string().c_str());
  auto engine = engine::AsyncEngine::create(*config);
  if (!engine.ok()) return report_error("chat", engine.status().to_string().c_str());
  auto params = sampling_from_flags(args, (*engine)->model());
  if (!params.ok()) return report_error("chat", params.status().to_string().c_str());
  if (args.has("system")) (*session)->set_system(args.get("system"));

  Style style;
  style.color = isatty(STDOUT_FILENO) && !args.has("no-color");
  const bool interactive = isatty(STDIN_FILENO);
  const bool show_reasoning = !args.has("hide-reasoning");
  if (interactive) print(kHelp);

  std::string line;
  while (true) {
    if (interactive) print(std::string(style.bold()) + "> " + style.reset());
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/help") {
      print(kHelp);
      continue;
    }
    if (line == "/reset") {
      (*session)->reset();
      print("(new conversation)\n");
      continue;
    }
    if (line.rfind("/system", 0) == 0) {
      (*session)->set_system(line.size() > 8 ? line.substr(8) : "");
      (*session)->reset();
      print("(system prompt set; new conversation)\n");
      continue;
    }
    auto prompt = (*session)->prompt_with_user_message(line);
    if (!prompt.ok()) {
      std::fprintf(stderr, "ember chat: %s\n", prompt.status().to_string().c_str());
      continue;
    }
    chat::ReasoningParser reasoning((*session)->starts_in_reasoning());
    std::string content;
    bool in_dim = false;
    auto show = [&](const chat::ReasoningParser::Delta& d) {
      if (!d.reasoning.empty() && show_reasoning) {
        if (!in_dim) print(style.dim());
        in_dim = true;
        print(d.reasoning);
      }
      if (d.content.empty()) return;
      if (in_dim) print(std::string(style.reset()) + "\n");
      in_dim = false;
      // The answer follows "</think>\n\n": drop the newlines before it.
      std::string piece = d.content;
      if (content.empty()) piece.erase(0, piece.find_first_not_of('\n') == std::string::npos ? piece.size() : piece.find_first_not_of('\n'));
      content += piece;
      print(piece);
    };
    auto summary = stream_generation(**engine, mt->tokenizer, std::move(*prompt), *params, {},
                                     [&](const std::string& piece) { show(reasoning.push(piece)); });
    show(reasoning.finish());
    if (in_dim) print(style.reset());
    print("\n");
    if (!summary.ok()) {
      std::fprintf(stderr, "ember chat: %s\n", summary.status().to_string().c_str());
      continue;
    }
    if (interactive) std::fprintf(stderr, "%s[%s]%s\n", style.dim(), summary_line(*summary).c_str(), style.reset());
    (*session)->add_exchange(line, content);
  }
  return 0;
}

}  // namespace ember::app
