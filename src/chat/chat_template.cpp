#include "chat/chat_template.h"

#include <fstream>
#include <new>
#include <sstream>

#include "chat/text_ops.h"

namespace ember::chat {
namespace {

// True when the template loops over a message's content, e.g.
// `{% for part in message['content'] %}` or `for c in m.content`.
bool loops_over_content(const std::string& source) {
  static const char* kNeedles[] = {".content %", ".content -%", "['content'] %", "['content'] -%",
                                   "[\"content\"] %", "[\"content\"] -%", ".content if", "['content'] if",
                                   ".content|", ".content |"};
  size_t pos = 0;
  while ((pos = source.find("for ", pos)) != std::string::npos) {
    size_t end = source.find("%}", pos);
    if (end == std::string::npos) break;
    std::string tag = source.substr(pos, end - pos + 2);
    size_t in = tag.find(" in ");
    if (in != std::string::npos) {
      std::string iter = tag.substr(in);
      for (const char* n : kNeedles) {
        if (iter.find(n) != std::string::npos) return true;
      }
    }
    pos = end;
  }
  return false;
}

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return not_found(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return io_error(path + ": read failed");
  return ss.str();
}

// Joins the text parts of list contents into one string.
Status flatten_contents(nlohmann::ordered_json& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    auto& m = messages[i];
    if (!m.is_object()) continue;
    auto it = m.find("content");
    if (it == m.end() || !it->is_array()) continue;
    std::string joined;
    bool first = true;
    for (const auto& part : *it) {
      std::string type = part.is_object() && part.contains("type") && part["type"].is_string()
                             ? part["type"].get<std::string>()
                             : std::string();
      if (part.is_string()) {
        type = "text";
      } else if (type != "text" || !part.contains("text") || !part["text"].is_string()) {
        return unsupported("message " + std::to_string(i) + ": content part of type '" + type +
                           "' is not supported (only text)");
      }
      if (!first) joined += "\n";
      first = false;
      joined += part.is_string() ? part.get<std::string>() : part["text"].get<std::string>();
    }
    *it = joined;
  }
  return ok_status();
}

}  // namespace

Result<ChatTemplate> ChatTemplate::create(std::string source, const TemplateOptions& options) {
  EMBER_ASSIGN_OR_RETURN(Template t, Template::compile(source, options));
  bool parts = loops_over_content(source);
  return ChatTemplate(std::move(t), std::move(source), parts);
}

Result<std::string> ChatTemplate::render(const ChatRenderInput& input, const RenderOptions& options) const {
  try {
    return render_impl(input, options);
  } catch (const std::bad_alloc&) {
    return resource_exhausted("chat template: out of memory while rendering");
  } catch (const std::exception& e) {
    return internal_error(std::string("chat template: unexpected failure: ") + e.what());
  }
}

Result<std::string> ChatTemplate::render_impl(const ChatRenderInput& input, const RenderOptions& options) const {
  if (!input.messages.is_array()) return invalid_argument("chat template: messages must be a JSON array");
  if (!input.extra.is_object() && !input.extra.is_null()) {
    return invalid_argument("chat template: chat_template_kwargs must be a JSON object");
  }
  if (input.continue_final_message && input.add_generation_prompt) {
    return invalid_argument("continue_final_message and add_generation_prompt are not compatible");
  }
  bool flatten = input.content_format == ContentFormat::kString ||
                 (input.content_format == ContentFormat::kAuto && !content_parts_);
  nlohmann::ordered_json vars = nlohmann::ordered_json::object();
  vars["messages"] = input.messages;
  if (flatten) EMBER_RETURN_IF_ERROR(flatten_contents(vars["messages"]));
  vars["tools"] = input.tools ? *input.tools : nlohmann::ordered_json();
  vars["documents"] = input.documents ? *input.documents : nlohmann::ordered_json();
  vars["add_generation_prompt"] = input.add_generation_prompt;
  if (input.bos_token) vars["bos_token"] = *input.bos_token;
  if (input.eos_token) vars["eos_token"] = *input.eos_token;
  if (input.unk_token) vars["unk_token"] = *input.unk_token;
  if (input.pad_token) vars["pad_token"] = *input.pad_token;
  if (input.extra.is_object()) {
    for (const auto& [k, v] : input.extra.items()) {
      if (k == "messages" || k == "tools" || k == "documents" || k == "add_generation_prompt") {
        return invalid_argument("chat_template_kwargs may not set '" + k + "'");
      }
      vars[k] = v;
    }
  }
  EMBER_ASSIGN_OR_RETURN(std::string rendered, template_.render(vars, options));
  if (!input.continue_final_message) return rendered;

  const auto& msgs = vars["messages"];
  if (msgs.empty()) return invalid_argument("continue_final_message needs at least one message");
  const auto& last = msgs.back();
  if (!last.is_object() || !last.contains("role") || last["role"] != "assistant") {
    return invalid_argument("continue_final_message needs the final message to be an assistant message");
  }
  std::string final_text;
  const auto content = last.contains("content") ? last["content"] : nlohmann::ordered_json();
  if (content.is_string()) {
    final_text = content.get<std::string>();
  } else if (content.is_array()) {
    bool found = false;
    for (auto it = content.rbegin(); it != content.rend() && !found; ++it) {
      if (it->is_object() && it->contains("text") && (*it)["text"].is_string()) {
        final_text = (*it)["text"].get<std::string>();
        found = true;
      }
    }
    if (!found) return invalid_argument("continue_final_message: the final message has no text to continue");
  } else {
    return invalid_argument("continue_final_message: the final message has no text content");
  }
  std::string stripped = text::strip(final_text, nullptr, true, true);
  size_t pos = rendered.rfind(stripped);
  if (pos == std::string::npos) {
    return invalid_argument(
        "continue_final_message: the final message does not appear in the rendered chat (the template may "
        "change it)");
  }
  rendered.resize(pos + stripped.size());
  return rendered;
}

Result<std::string> select_chat_template(const nlohmann::json& config, bool tools_given, std::string_view name) {
  if (!config.is_object() || !config.contains("chat_template")) {
    return not_found("tokenizer config has no chat_template");
  }
  const auto& ct = config["chat_template"];
  if (ct.is_string()) {
    if (!name.empty() && name != "default") return not_found("chat template '" + std::string(name) + "' not found");
    return ct.get<std::string>();
  }
  if (!ct.is_array()) return invalid_argument("chat_template must be a string or a list of {name, template}");
  const nlohmann::json* fallback = nullptr;
  const nlohmann::json* tool_use = nullptr;
  const nlohmann::json* named = nullptr;
  std::string names;
  for (const auto& entry : ct) {
    if (!entry.is_object() || !entry.contains("name") || !entry["name"].is_string() ||
        !entry.contains("template") || !entry["template"].is_string()) {
      return invalid_argument("chat_template list entries must be {name, template} strings");
    }
    std::string n = entry["name"].get<std::string>();
    names += (names.empty() ? "" : ", ") + n;
    if (n == "default") fallback = &entry["template"];
    if (n == "tool_use") tool_use = &entry["template"];
    if (!name.empty() && n == name) named = &entry["template"];
  }
  if (!name.empty()) {
    if (named == nullptr) return not_found("chat template '" + std::string(name) + "' not found (have: " + names + ")");
    return named->get<std::string>();
  }
  if (tools_given && tool_use != nullptr) return tool_use->get<std::string>();
  if (fallback == nullptr) return not_found("no 'default' chat template (have: " + names + ")");
  return fallback->get<std::string>();
}

Result<std::string> load_chat_template(const std::string& model_dir, bool tools_given, std::string_view name) {
  if (name.empty()) {
    Result<std::string> jinja = read_file(model_dir + "/chat_template.jinja");
    if (jinja.ok()) return jinja;
  }
  for (const char* file : {"/chat_template.json", "/tokenizer_config.json"}) {
    Result<std::string> text = read_file(model_dir + file);
    if (!text.ok()) continue;
    nlohmann::json config = nlohmann::json::parse(*text, nullptr, false);
    if (config.is_discarded()) return corrupt(model_dir + file + ": not valid JSON");
    if (!config.is_object() || !config.contains("chat_template")) continue;
    Result<std::string> t = select_chat_template(config, tools_given, name);
    if (!t.ok()) return t.status().with_context(model_dir + file);
    return t;
  }
  return not_found(model_dir + ": no chat template (chat_template.jinja, chat_template.json or tokenizer_config.json)");
}

}  // namespace ember::chat
