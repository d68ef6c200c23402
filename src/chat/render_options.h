// Options for compiling and rendering templates, and the limits that make a
// hostile template fail with a Status instead of hanging or exhausting memory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>

namespace ember::chat {

struct TemplateOptions {
  // Hugging Face's settings (transformers compiles chat templates this way).
  bool trim_blocks = true;
  bool lstrip_blocks = true;
  bool keep_trailing_newline = false;
};

struct RenderLimits {
  size_t max_output_bytes = 32u << 20;      // the rendered text, and any one string
  size_t max_memory_bytes = 256u << 20;     // lists, dicts, scopes and objects
  size_t max_string_bytes_total = 1u << 30; // all strings built during the render
  uint64_t max_steps = 10'000'000;          // expression evaluations + loop iterations
  int max_depth = 300;                      // nested evaluation (expressions, statements)
  int max_macro_depth = 64;                 // nested macro calls
  int64_t max_range = 100'000;              // like jinja2's sandbox MAX_RANGE
};

struct RenderOptions {
  RenderLimits limits;
  // strftime_now() uses this instead of the clock (local time) when set.
  std::optional<std::time_t> now;
};

}  // namespace ember::chat
