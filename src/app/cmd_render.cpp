// `ember render`: a chat request through the model's chat template, as
// transformers' apply_chat_template renders it; only the tokenizer files are
// read.
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "app/chat_session.h"
#include "app/cli_args.h"
#include "app/commands.h"
#include "app/model_flags.h"
#include "chat/chat_template.h"

namespace ember::app {
namespace {

using Json = nlohmann::ordered_json;

struct Rendered {
  std::string text;
  std::vector<int32_t> ids;
};

// The compiled templates, for requests without and with tools (a named
// template list may pick another one for tools), each compiled once.
class Templates {
 public:
  Templates(const engine::ModelTokenizer& mt, std::string file) : mt_(mt), file_(std::move(file)) {}
  Result<const chat::ChatTemplate*> get(bool tools) {
    std::optional<chat::ChatTemplate>& slot = compiled_[tools ? 1 : 0];
    if (!slot) {
      EMBER_ASSIGN_OR_RETURN(std::string source, chat_template_source(mt_, file_, tools));
      EMBER_ASSIGN_OR_RETURN(chat::ChatTemplate t, chat::ChatTemplate::create(std::move(source)));
      slot.emplace(std::move(t));
    }
    return &*slot;
  }

 private:
  const engine::ModelTokenizer& mt_;
  std::string file_;
  std::optional<chat::ChatTemplate> compiled_[2];
};

// {"messages", "tools"?, "add_generation_prompt"?, "continue_final_message"?,
//  "chat_template_kwargs"?} -> the prompt and its ids.
Result<Rendered> render_request(const Json& req, const engine::ModelTokenizer& mt, Templates& templates) {
  if (!req.is_object()) return Status(invalid_argument("the request must be a JSON object"));
  if (!req.contains("messages") || !req["messages"].is_array())
    return Status(invalid_argument("'messages' must be a list of {role, content} objects"));
  chat::ChatRenderInput in;
  in.messages = req["messages"];
  const bool tools = req.contains("tools") && !req["tools"].is_null();
  if (tools) {
    if (!req["tools"].is_array()) return Status(invalid_argument("'tools' must be a list"));
    in.tools = req["tools"];
  }
  for (auto [key, field] : {std::pair{"add_generation_prompt", &in.add_generation_prompt},
                            {"continue_final_message", &in.continue_final_message}}) {
    if (!req.contains(key)) continue;
    if (!req[key].is_boolean()) return Status(invalid_argument(std::string("'") + key + "' must be true or false"));
    *field = req[key].get<bool>();
  }
  if (req.contains("chat_template_kwargs") && !req["chat_template_kwargs"].is_null()) {
    if (!req["chat_template_kwargs"].is_object())
      return Status(invalid_argument("'chat_template_kwargs' must be an object"));
    in.extra = req["chat_template_kwargs"];
  }
  if (!mt.bos_token.empty()) in.bos_token = mt.bos_token;
  if (!mt.eos_token.empty()) in.eos_token = mt.eos_token;
  if (!mt.pad_token.empty()) in.pad_token = mt.pad_token;
  EMBER_ASSIGN_OR_RETURN(const chat::ChatTemplate* t, templates.get(tools));
  Rendered r;
  EMBER_ASSIGN_OR_RETURN(r.text, t->render(in));
  EMBER_ASSIGN_OR_RETURN(r.ids, mt.tokenizer->encode(r.text, {.add_special_tokens = false}));
  return r;
}

std::string dump(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace

int cmd_render(int argc, char** argv) {
  CliArgs args("render",
               "Reads a chat request {\"messages\", \"tools\", \"add_generation_prompt\", \"continue_final_message\", "
               "\"chat_template_kwargs\"} on standard input and prints the prompt the model's chat template makes of it.");
  args.positional("MODEL", "model directory (tokenizer files are enough) or .gguf file");
  args.option("chat-template", "FILE", "a Jinja chat template instead of the model's");
  args.flag("jsonl", "one request per line; write {\"rendered\", \"ids\"} lines (ids: the prompt tokenized, no special tokens added)");
  if (int rc = parse_or_exit(args, argc, argv); rc >= 0) return rc;
  auto mt = engine::load_model_tokenizer(args.positional_at(0));
  if (!mt.ok()) return report_error("render", mt.status().to_string().c_str());
  Templates templates(*mt, args.get("chat-template"));

  if (!args.has("jsonl")) {
    const std::string text(std::istreambuf_iterator<char>(std::cin), {});
    Json req = Json::parse(text, nullptr, false);
    if (req.is_discarded()) return report_error("render", "standard input is not valid JSON");
    auto r = render_request(req, *mt, templates);
    if (!r.ok()) return report_error("render", r.status().to_string().c_str());
    std::fwrite(r->text.data(), 1, r->text.size(), stdout);
    return 0;
  }
  std::string line;
  int failures = 0;
  for (size_t n = 1; std::getline(std::cin, line); ++n) {
    Json out;
    Json req = Json::parse(line, nullptr, false);
    auto r = req.is_discarded() ? Result<Rendered>(invalid_argument("not valid JSON")) : render_request(req, *mt, templates);
    if (r.ok()) {
      out["rendered"] = r->text;
      out["ids"] = r->ids;
    } else {
      out["error"] = "line " + std::to_string(n) + ": " + r.status().message();
      ++failures;
    }
    std::cout << dump(out) << '\n';
  }
  std::cout.flush();
  return failures ? 1 : 0;
}

}  // namespace ember::app
