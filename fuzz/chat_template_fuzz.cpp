// Arbitrary bytes as a chat template: compiling and rendering must either
// succeed or return a Status, never crash, hang, leak or overflow the stack.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/chat_template.h"

namespace {

using ember::chat::ChatRenderInput;
using json = nlohmann::ordered_json;

ChatRenderInput make_input() {
  ChatRenderInput in;
  in.messages = json::array({
      {{"role", "system"}, {"content", "You are helpful."}},
      {{"role", "user"}, {"content", "Weather in Paris? \xe6\x90\x9c\xe7\xb4\xa2"}},
      {{"role", "assistant"},
       {"content", nullptr},
       {"tool_calls", json::array({{{"id", "c1"},
                                    {"type", "function"},
                                    {"function", {{"name", "get_weather"}, {"arguments", "{\"city\": \"Paris\"}"}}}}})}},
      {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "{\"t\": 21}"}},
      {{"role", "assistant"}, {"content", "<think>\nok\n</think>\n\nIt is 21."}},
      {{"role", "user"}, {"content", json::array({{{"type", "text"}, {"text", "Thanks"}}})}},
  });
  in.tools = json::parse(R"([{"type": "function", "function": {"name": "get_weather", "description": "Get weather",
      "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])");
  in.bos_token = "<s>";
  in.eos_token = "</s>";
  in.extra = {{"enable_thinking", true}};
  return in;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const ChatRenderInput input = make_input();
  std::string source(reinterpret_cast<const char*>(data), size);
  ember::Result<ember::chat::ChatTemplate> t = ember::chat::ChatTemplate::create(source);
  if (!t.ok()) return 0;
  ember::chat::RenderOptions options;
  options.now = 1700000000;
  options.limits.max_steps = 200'000;
  options.limits.max_output_bytes = 1 << 20;
  options.limits.max_string_bytes_total = 16 << 20;
  options.limits.max_memory_bytes = 32 << 20;
  ember::Result<std::string> r = t->render(input, options);
  (void)r;
  ChatRenderInput gen = input;
  gen.add_generation_prompt = true;
  gen.content_format = ember::chat::ContentFormat::kParts;
  r = t->render(gen, options);
  return 0;
}
