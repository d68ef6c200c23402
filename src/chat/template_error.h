// TemplateError: how the interpreter reports a failure internally. Parsing
// and rendering throw it; Template::compile / Template::render catch it at the
// public boundary and turn it into a Status that names the template line, so
// no exception ever leaves the library.
#pragma once

#include <string>
#include <utility>

#include "base/status.h"

namespace ember::chat {

class TemplateError {
 public:
  TemplateError(StatusCode code, std::string message, int line = 0, int column = 0)
      : code_(code), message_(std::move(message)), line_(line), column_(column) {}

  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  int line() const { return line_; }
  int column() const { return column_; }
  // Sets the position once: the innermost node that knows it wins.
  void locate(int line, int column) {
    if (line_ == 0) {
      line_ = line;
      column_ = column;
    }
  }
  // "chat template line 3, column 7: unknown filter 'foo'"
  Status to_status() const;

 private:
  StatusCode code_;
  std::string message_;
  int line_;
  int column_;
};

// Shorthands for the common kinds of failure.
[[noreturn]] void throw_error(std::string message);                 // invalid template/data
[[noreturn]] void throw_limit(std::string message);                 // resource limit hit
[[noreturn]] void throw_unsupported(std::string message);

}  // namespace ember::chat
