// `ember run`: one generation through the serving engine, streamed to
// stdout as text. The prompt is raw text (-p), a file, token ids (--tokens),
// or with --chat a user message put through the model's chat template.
#include <cstdio>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "app/chat_session.h"
#include "app/commands.h"
#include "app/generation_stream.h"
#include "app/model_flags.h"
#include "app/sampling_flags.h"
#include "hub/resolve.h"
#include "base/mapped_file.h"
#include "engine/tokenizer_loader.h"

namespace ember::app {
namespace {

Result<std::vector<int32_t>> parse_ids(std::string text, int64_t vocab) {
  for (char& ch : text)
    if (ch == ',') ch = ' ';
  std::istringstream ss(text);
  std::vector<int32_t> ids;
  std::string word;
  while (ss >> word) {
    char* end = nullptr;
    const long long v = std::strtoll(word.c_str(), &end, 10);
    if (*end != '\0' || v < 0 || v >= vocab)
      return invalid_argument("--tokens: '" + word + "' is not a token id of this model");
    ids.push_back(static_cast<int32_t>(v));
  }
  if (ids.empty()) return invalid_argument("--tokens is empty");
  return ids;
}

}  // namespace

int cmd_run(int argc, char** argv) {
  CliArgs args("run", "Generates a continuation of a prompt and streams it to standard output.");
  args.positional("MODEL", "model directory, .gguf file, or Hugging Face repo id (ORG/NAME[:FILE.gguf]; downloaded unless cached)");
  args.option("prompt", "TEXT", "the prompt as text (raw completion unless --chat)");
  args.alias("-p", "prompt");
  args.option("file", "PATH", "read the prompt text from a file ('-': standard input)");
  args.option("tokens", "IDS", "the prompt as comma- or space-separated token ids");
  args.flag("chat", "treat the prompt as a user message and apply the model's chat template");
  args.option("system", "TEXT", "with --chat: a system message first");
  args.option("chat-template", "FILE", "with --chat: a Jinja chat template instead of the model's");
  args.option("stop", "TEXT", "a stop string: generation ends where it appears (not printed)");
  args.flag("show-special", "print special tokens (e.g. <｜end▁of▁sentence｜>) in the output");
  args.flag("ids", "also print the generated token ids at the end (without a tokenizer only ids are printed)");
  add_sampling_flags(args);
  add_model_flags(args);
  add_engine_flags(args);
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  const int sources = args.has("prompt") + args.has("file") + args.has("tokens");
  if (sources != 1) return report_error("run", "give the prompt once: -p TEXT, --file PATH or --tokens IDS");
  if (args.has("chat") && args.has("tokens")) return report_error("run", "--chat takes a text prompt, not --tokens");

  auto resolved = hub::resolve_model(args.positional_at(0), hub::HubOptions::from_env());
  if (!resolved.ok()) return report_error("run", resolved.status().message().c_str());
  const std::string model_path = *resolved;
  auto config = engine_config_from_flags(args, model_path);
  if (!config.ok()) return report_error("run", config.status().to_string().c_str());
  // --tokens works on a model file without a tokenizer (make-random): the
  // output is then ids too.
  auto mt = engine::load_model_tokenizer(model_path);
  if (!mt.ok() && !args.has("tokens")) return report_error("run", mt.status().to_string().c_str());
  std::shared_ptr<const tokenizer::Tokenizer> tok = mt.ok() ? mt->tokenizer : nullptr;
  auto engine = engine::AsyncEngine::create(*config);
  if (!engine.ok()) return report_error("run", engine.status().to_string().c_str());
  auto params = sampling_from_flags(args, (*engine)->model());
  if (!params.ok()) return report_error("run", params.status().to_string().c_str());

  std::vector<int32_t> prompt;
  if (args.has("tokens")) {
    auto ids = parse_ids(args.get("tokens"), (*engine)->model().config().vocab);
    if (!ids.ok()) return report_error("run", ids.status().message().c_str());
    prompt = std::move(*ids);
  } else {
    std::string text = args.get("prompt");
    if (args.has("file")) {
      if (args.get("file") == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
      } else {
        auto t = read_file(args.get("file"));
        if (!t.ok()) return report_error("run", t.status().to_string().c_str());
        text = std::move(*t);
      }
    }
    Result<std::vector<int32_t>> ids = std::vector<int32_t>{};
    if (args.has("chat")) {
      auto session = ChatSession::create(*mt, args.get("chat-template"));
      if (!session.ok()) return report_error("run", session.status().to_string().c_str());
      if (args.has("system")) (*session)->set_system(args.get("system"));
      ids = (*session)->prompt_with_user_message(text);
    } else {
      ids = mt->tokenizer->encode(text);
    }
    if (!ids.ok()) return report_error("run", ids.status().to_string().c_str());
    prompt = std::move(*ids);
  }

  engine::TextOutputOptions text_options;
  text_options.skip_special_tokens = !args.has("show-special");
  if (args.has("stop")) text_options.stop.push_back(args.get("stop"));
  auto summary = stream_generation(**engine, tok, std::move(prompt), *params, text_options,
                                   [](const std::string& piece) {
                                     std::fwrite(piece.data(), 1, piece.size(), stdout);
                                     std::fflush(stdout);
                                   });
  std::printf("\n");
  std::fflush(stdout);
  if (!summary.ok()) return report_error("run", summary.status().to_string().c_str());
  if (args.has("ids")) {
    for (size_t i = 0; i < summary->tokens.size(); ++i) std::printf("%s%d", i ? " " : "", summary->tokens[i]);
    std::printf("\n");
    std::fflush(stdout);
  }
  std::fprintf(stderr, "%s\n", summary_line(*summary).c_str());
  return 0;
}

}  // namespace ember::app
