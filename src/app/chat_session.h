// A conversation for the terminal commands (`ember run --chat`, `ember
// chat`): the messages so far, rendered with the model's chat template (or
// --chat-template FILE) and tokenized as apply_chat_template does (the
// rendered text, special tokens parsed, none added again).
#pragma once

#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "base/status.h"
#include "chat/chat_template.h"
#include "engine/tokenizer_loader.h"

namespace ember::app {

// The chat template's text: `file` when given (--chat-template), else the
// model's (a named list picks "tool_use" when tools are given).
Result<std::string> chat_template_source(const engine::ModelTokenizer& mt, const std::string& file, bool tools_given);

class ChatSession {
 public:
  // template_file: a Jinja file to use instead of the model's template.
  static Result<std::unique_ptr<ChatSession>> create(const engine::ModelTokenizer& mt,
                                                     const std::string& template_file);

  void set_system(std::string text) { system_ = std::move(text); }
  const std::string& system() const { return system_; }
  void reset() { messages_ = nlohmann::ordered_json::array(); }
  size_t num_messages() const { return messages_.size(); }

  // The prompt ids for the conversation plus `user_text` as the next user
  // message, ending with the assistant's generation prompt. The message is
  // not kept until add_exchange.
  Result<std::vector<int32_t>> prompt_with_user_message(const std::string& user_text) const;
  // Keeps a finished exchange (the reply's content; the reasoning is not
  // sent back, as the DeepSeek-R1 templates drop it anyway).
  void add_exchange(const std::string& user_text, const std::string& reply);
  // Whether the template opens <think> at the generation prompt.
  bool starts_in_reasoning() const { return starts_in_reasoning_; }

 private:
  ChatSession() = default;
  nlohmann::ordered_json messages_for(const std::string& user_text) const;
  Result<std::string> render(const nlohmann::ordered_json& messages) const;

  std::shared_ptr<const tokenizer::Tokenizer> tokenizer_;
  std::shared_ptr<const chat::ChatTemplate> template_;
  std::string bos_token_, eos_token_, pad_token_;
  std::string system_;
  nlohmann::ordered_json messages_ = nlohmann::ordered_json::array();
  bool starts_in_reasoning_ = false;
};

}  // namespace ember::app
