#include "engine/text_output.h"

namespace ember::engine {

std::string TextOutput::push(const std::vector<int32_t>& tokens) {
  std::string text;
  for (int32_t t : tokens) {
    if (stops_.stopped()) break;
    text += stops_.push(decoder_.push(t));
  }
  return text;
}

std::string TextOutput::finish() {
  if (stops_.stopped()) return {};
  std::string text = stops_.push(decoder_.finish());
  if (!stops_.stopped()) text += stops_.finish();
  return text;
}

}  // namespace ember::engine
