#include "chat/template_error.h"

namespace ember::chat {

Status TemplateError::to_status() const {
  std::string where = "chat template";
  if (line_ > 0) {
    where += " line " + std::to_string(line_);
    if (column_ > 0) where += ", column " + std::to_string(column_);
  }
  return Status(code_, where + ": " + message_);
}

void throw_error(std::string message) {
  throw TemplateError(StatusCode::kInvalidArgument, std::move(message));
}

void throw_limit(std::string message) {
  throw TemplateError(StatusCode::kResourceExhausted, std::move(message));
}

void throw_unsupported(std::string message) {
  throw TemplateError(StatusCode::kUnsupported, std::move(message));
}

}  // namespace ember::chat
