// Download progress on stderr: a bar redrawn in place when stderr is a
// terminal, one line per file otherwise (logs, pipes, tests).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ember::hub {

enum class ProgressMode {
  kAuto,   // kBar when stderr is a terminal, else kLines
  kBar,
  kLines,
  kNone,
};

// "674 B", "7.0 MB", "3.55 GB" (decimal units, as the Hub shows sizes).
std::string format_bytes(uint64_t bytes);

class Progress {
 public:
  explicit Progress(ProgressMode mode);

  // A line of its own (e.g. "pulling REPO ...").
  void message(const std::string& line);
  // TOTAL: 0 when unknown; RESUMED_FROM: bytes already on disk.
  void start_file(const std::string& name, uint64_t total, uint64_t resumed_from);
  void update(uint64_t bytes_on_disk);
  void finish_file(bool ok);

 private:
  void draw(bool final);

  ProgressMode mode_;
  std::string name_;
  uint64_t total_ = 0, start_bytes_ = 0, bytes_ = 0;
  std::chrono::steady_clock::time_point started_, last_draw_;
  bool drawing_ = false;
};

}  // namespace ember::hub
