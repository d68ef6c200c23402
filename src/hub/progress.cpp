#include "hub/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

namespace ember::hub {

std::string format_bytes(uint64_t bytes) {
  char buf[32];
  if (bytes < 1000) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else if (bytes < 1000 * 1000) std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  else if (bytes < 1000ull * 1000 * 1000) std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else std::snprintf(buf, sizeof buf, "%.2f GB", bytes / 1e9);
  return buf;
}

Progress::Progress(ProgressMode mode) : mode_(mode) {
  if (mode_ == ProgressMode::kAuto) mode_ = ::isatty(STDERR_FILENO) ? ProgressMode::kBar : ProgressMode::kLines;
}

void Progress::message(const std::string& line) {
  if (mode_ == ProgressMode::kNone) return;
  if (drawing_) std::fputs("\n", stderr);
  drawing_ = false;
  std::fprintf(stderr, "%s\n", line.c_str());
}

void Progress::start_file(const std::string& name, uint64_t total, uint64_t resumed_from) {
  name_ = name;
  total_ = total;
  start_bytes_ = bytes_ = resumed_from;
  started_ = last_draw_ = std::chrono::steady_clock::now();
  if (mode_ == ProgressMode::kLines) {
    std::string line = "  downloading " + name + " (" + (total ? format_bytes(total) : std::string("size unknown"));
    if (resumed_from) line += ", resuming at " + format_bytes(resumed_from);
    std::fprintf(stderr, "%s)\n", line.c_str());
  } else if (mode_ == ProgressMode::kBar) {
    draw(false);
  }
}

void Progress::update(uint64_t bytes_on_disk) {
  bytes_ = bytes_on_disk;
  if (mode_ != ProgressMode::kBar) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish_file(bool ok) {
  if (mode_ != ProgressMode::kBar) return;
  draw(true);
  std::fputs(ok ? "\n" : "  (interrupted)\n", stderr);
  drawing_ = false;
}

void Progress::draw(bool final) {
  constexpr int kWidth = 24;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  const double rate = seconds > 0.2 ? (bytes_ - start_bytes_) / seconds : 0.0;
  char bar[kWidth + 1];
  const double frac = total_ ? std::min(1.0, static_cast<double>(bytes_) / total_) : 0.0;
  for (int i = 0; i < kWidth; ++i) bar[i] = i < static_cast<int>(frac * kWidth) ? '#' : '.';
  bar[kWidth] = 0;
  std::string eta;
  if (!final && rate > 0 && total_ > bytes_) {
    const long s = static_cast<long>((total_ - bytes_) / rate);
    char b[32];
    std::snprintf(b, sizeof b, "  eta %ld:%02ld", s / 60, s % 60);
    eta = b;
  }
  std::fprintf(stderr, "\r\033[K  %s  %3d%% [%s] %s / %s  %s/s%s", name_.c_str(), static_cast<int>(frac * 100), bar,
               format_bytes(bytes_).c_str(), total_ ? format_bytes(total_).c_str() : "?",
               format_bytes(static_cast<uint64_t>(rate)).c_str(), eta.c_str());
  std::fflush(stderr);
  drawing_ = true;
}

}  // namespace ember::hub
