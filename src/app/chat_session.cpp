#include "app/chat_session.h"

#include "base/mapped_file.h"
#include "chat/reasoning_parser.h"

namespace ember::app {

Result<std::string> chat_template_source(const engine::ModelTokenizer& mt, const std::string& file, bool tools_given) {
  if (!file.empty()) return read_file(file);
  if (mt.chat_template.is_string()) return mt.chat_template.get<std::string>();
  if (mt.chat_template.is_array()) {
    const nlohmann::json config = {{"chat_template", nlohmann::json::parse(mt.chat_template.dump())}};
    return chat::select_chat_template(config, tools_given);
  }
  return Status(not_found("the model has no chat template; give one with --chat-template FILE"));
}

Result<std::unique_ptr<ChatSession>> ChatSession::create(const engine::ModelTokenizer& mt,
                                                         const std::string& template_file) {
  std::unique_ptr<ChatSession> s(new ChatSession());
  s->tokenizer_ = mt.tokenizer;
  s->bos_token_ = mt.bos_token;
  s->eos_token_ = mt.eos_token;
  s->pad_token_ = mt.pad_token;
  EMBER_ASSIGN_OR_RETURN(std::string source, chat_template_source(mt, template_file, false));
  auto compiled = chat::ChatTemplate::create(std::move(source));
  if (!compiled.ok()) return compiled.status().with_context(template_file.empty() ? "chat template" : template_file);
  s->template_ = std::make_shared<const chat::ChatTemplate>(std::move(*compiled));
  // Does the generation prompt open the reasoning (DeepSeek-R1: "<think>\n")?
  auto probe = s->render(s->messages_for("x"));
  if (!probe.ok()) return probe.status().with_context("chat template");
  s->starts_in_reasoning_ = chat::prompt_opens_reasoning(*probe);
  return s;
}

nlohmann::ordered_json ChatSession::messages_for(const std::string& user_text) const {
  nlohmann::ordered_json messages = nlohmann::ordered_json::array();
  if (!system_.empty()) messages.push_back({{"role", "system"}, {"content", system_}});
  for (const auto& m : messages_) messages.push_back(m);
  messages.push_back({{"role", "user"}, {"content", user_text}});
  return messages;
}

Result<std::string> ChatSession::render(const nlohmann::ordered_json& messages) const {
  chat::ChatRenderInput in;
  in.messages = messages;
  in.add_generation_prompt = true;
  if (!bos_token_.empty()) in.bos_token = bos_token_;
  if (!eos_token_.empty()) in.eos_token = eos_token_;
  if (!pad_token_.empty()) in.pad_token = pad_token_;
  return template_->render(in);
}

Result<std::vector<int32_t>> ChatSession::prompt_with_user_message(const std::string& user_text) const {
  EMBER_ASSIGN_OR_RETURN(std::string text, render(messages_for(user_text)));
  // As apply_chat_template: the template wrote the special tokens, so they
  // are parsed and none are added again.
  return tokenizer_->encode(text, {.add_special_tokens = false, .parse_special = true});
}

void ChatSession::add_exchange(const std::string& user_text, const std::string& reply) {
  messages_.push_back({{"role", "user"}, {"content", user_text}});
  messages_.push_back({{"role", "assistant"}, {"content", reply}});
}

}  // namespace ember::app
