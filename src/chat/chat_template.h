// ChatTemplate: a model's chat template (Jinja, from tokenizer_config.json)
// turned into a prompt string, the way transformers' apply_chat_template does
// it: the template sees `messages`, `tools` (none when not given),
// `documents`, `add_generation_prompt`, the special tokens the tokenizer has
// (bos_token, eos_token, ... only those that are set) and any extra
// chat_template_kwargs (e.g. enable_thinking). continue_final_message cuts the
// render right after the last message's content.
//
// Compiled once, immutable, safe to render from many threads at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/render_options.h"
#include "chat/template.h"

namespace ember::chat {

// How message content that is a list of parts ([{type:"text", text}]) reaches
// the template.
enum class ContentFormat {
  kAuto,    // kParts if the template loops over message content, else kString
  kString,  // text parts joined with "\n" into one string (what string-only templates need)
  kParts,   // passed as given
};

struct ChatRenderInput {
  // [{role, content (string, null or parts), tool_calls, tool_call_id, name,
  //   reasoning_content, ...}], passed to the template as given (except
  // content flattening, see ContentFormat). ordered_json keeps key order.
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  std::optional<nlohmann::ordered_json> tools;      // OpenAI tool schemas; none when absent
  std::optional<nlohmann::ordered_json> documents;  // RAG documents; none when absent
  bool add_generation_prompt = false;
  bool continue_final_message = false;
  // Special tokens; each is a template variable only when set.
  std::optional<std::string> bos_token;
  std::optional<std::string> eos_token;
  std::optional<std::string> pad_token;
  std::optional<std::string> unk_token;
  // chat_template_kwargs: each key becomes a template variable (overriding
  // special tokens). Must be an object or null.
  nlohmann::ordered_json extra = nlohmann::ordered_json::object();
  ContentFormat content_format = ContentFormat::kAuto;
};

class ChatTemplate {
 public:
  static Result<ChatTemplate> create(std::string source, const TemplateOptions& options = {});

  Result<std::string> render(const ChatRenderInput& input, const RenderOptions& options = {}) const;

  const std::string& source() const { return source_; }
  // Whether the template iterates over message content (so kAuto keeps parts).
  bool expects_content_parts() const { return content_parts_; }

 private:
  Result<std::string> render_impl(const ChatRenderInput& input, const RenderOptions& options) const;
  ChatTemplate(Template t, std::string source, bool parts)
      : template_(std::move(t)), source_(std::move(source)), content_parts_(parts) {}

  Template template_;
  std::string source_;
  bool content_parts_;
};

// The `chat_template` field of a tokenizer_config.json: a string, or a list of
// {name, template} where "tool_use" is chosen when tools are given and it
// exists, else "default". `name` picks one explicitly.
Result<std::string> select_chat_template(const nlohmann::json& tokenizer_config, bool tools_given,
                                         std::string_view name = {});

// A model directory's chat template: chat_template.jinja if present, else
// chat_template.json's or tokenizer_config.json's `chat_template` field.
Result<std::string> load_chat_template(const std::string& model_dir, bool tools_given,
                                       std::string_view name = {});

}  // namespace ember::chat
