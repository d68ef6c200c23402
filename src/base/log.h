// Minimal leveled logging to stderr. The level and format are process-wide
// and set once at start-up by the app (`--log-level`, `--log-format`);
// everything else only writes. Text: "HH:MM:SS L message key=value ...".
// JSON: one object per line, {"time", "level", "msg", then the fields}.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ember {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
bool parse_log_level(const char* name, LogLevel* out);

enum class LogFormat { kText = 0, kJson = 1 };
void set_log_format(LogFormat format);
LogFormat log_format();
bool parse_log_format(const char* name, LogFormat* out);

void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// A structured field of a log event: a string, or a number written as is.
struct LogField {
  LogField(const char* k, std::string v) : key(k), value(std::move(v)) {}
  LogField(const char* k, const char* v) : key(k), value(v ? v : "") {}
  LogField(const char* k, int64_t v) : key(k), value(std::to_string(v)), number(true) {}
  LogField(const char* k, int v) : LogField(k, static_cast<int64_t>(v)) {}
  LogField(const char* k, double v, int decimals);  // fixed point
  const char* key;
  std::string value;
  bool number = false;
};
// One event: its message and fields (text: key=value after the message).
void log_event(LogLevel level, const std::string& message, const std::vector<LogField>& fields);

}  // namespace ember

#define EMBER_LOG(level, ...)                                       \
  do {                                                              \
    if (static_cast<int>(level) >= static_cast<int>(::ember::log_level())) \
      ::ember::log_message(level, __VA_ARGS__);                     \
  } while (0)
#define LOG_DEBUG(...) EMBER_LOG(::ember::LogLevel::kDebug, __VA_ARGS__)
#define LOG_INFO(...) EMBER_LOG(::ember::LogLevel::kInfo, __VA_ARGS__)
#define LOG_WARN(...) EMBER_LOG(::ember::LogLevel::kWarning, __VA_ARGS__)
#define LOG_ERROR(...) EMBER_LOG(::ember::LogLevel::kError, __VA_ARGS__)
