#include "base/log.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <mutex>

namespace ember {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
std::atomic<int> g_format{static_cast<int>(LogFormat::kText)};
std::mutex g_mutex;

// A JSON string literal of `s` (control characters escaped; bytes >= 0x80
// as they are, so UTF-8 stays UTF-8).
void append_json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void write_line(LogLevel level, const std::string& message, const std::vector<LogField>& fields) {
  static const char* kTags[] = {"D", "I", "W", "E", ""};
  static const char* kNames[] = {"debug", "info", "warning", "error", "off"};
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::string line;
  if (log_format() == LogFormat::kJson) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    char ts[96];  // room for any int fields, so -Wformat-truncation has nothing to say
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
    line = "{\"time\":\"";
    line += ts;
    line += "\",\"level\":\"";
    line += kNames[static_cast<int>(level)];
    line += "\",\"msg\":";
    append_json_string(line, message);
    for (const LogField& f : fields) {
      line += ',';
      append_json_string(line, f.key);
      line += ':';
      if (f.number) line += f.value;
      else append_json_string(line, f.value);
    }
    line += '}';
  } else {
    std::tm tm{};
    localtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%H:%M:%S", &tm);
    line = ts;
    line += ' ';
    line += kTags[static_cast<int>(level)];
    line += ' ';
    line += message;
    for (const LogField& f : fields) {
      line += ' ';
      line += f.key;
      line += '=';
      const bool quote = !f.number && (f.value.empty() || f.value.find_first_of(" \"=") != std::string::npos);
      if (quote) append_json_string(line, f.value);
      else line += f.value;
    }
  }
  line += '\n';
  std::lock_guard<std::mutex> lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

LogField::LogField(const char* k, double v, int decimals) : key(k), number(true) {
  if (!std::isfinite(v)) {
    value = "null";
    return;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  value = buf;
}

void set_log_format(LogFormat format) { g_format.store(static_cast<int>(format)); }
LogFormat log_format() { return static_cast<LogFormat>(g_format.load(std::memory_order_relaxed)); }

bool parse_log_format(const char* name, LogFormat* out) {
  if (std::strcmp(name, "text") == 0) *out = LogFormat::kText;
  else if (std::strcmp(name, "json") == 0) *out = LogFormat::kJson;
  else return false;
  return true;
}

void log_event(LogLevel level, const std::string& message, const std::vector<LogField>& fields) {
  if (static_cast<int>(level) < static_cast<int>(log_level())) return;
  write_line(level, message, fields);
}

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
LogLevel log_level() { return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed)); }

bool parse_log_level(const char* name, LogLevel* out) {
  static const struct { const char* name; LogLevel level; } kLevels[] = {
      {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo}, {"warning", LogLevel::kWarning},
      {"warn", LogLevel::kWarning}, {"error", LogLevel::kError}, {"off", LogLevel::kOff}};
  for (const auto& l : kLevels) {
    if (std::strcmp(name, l.name) == 0) {
      *out = l.level;
      return true;
    }
  }
  return false;
}

void log_message(LogLevel level, const char* fmt, ...) {
  char buf[2048];
  va_list args;
  va_start(args, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, args);
  va_end(args);
  write_line(level, buf, {});
}

}  // namespace ember
