// Minimal leveled logging to stderr. The level is process-wide and set once at
// start-up by the app (`--log-level`); everything else only writes.
#pragma once

namespace ember {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
bool parse_log_level(const char* name, LogLevel* out);

void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

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
