// The `ember` binary: dispatches to a subcommand.
#include <cstdio>
#include <cstring>

#include "app/commands.h"

namespace ember::app {
namespace {

const Command kCommands[] = {
    {"info", "show a model's architecture, shapes, tensor types and bytes", cmd_info},
    {"eval", "write the logits of token sequences (numerics checks)", cmd_eval},
    {"bench", "measure prompt processing and generation speed", cmd_bench},
    {"make-random", "write a random-weights GGUF model of a real shape", cmd_make_random},
    {"run", "generate from a prompt (text, token ids, or a chat message)", cmd_run},
    {"chat", "chat with the model in the terminal", cmd_chat},
    {"tokenize", "text to token ids", cmd_tokenize},
    {"detokenize", "token ids to text", cmd_detokenize},
    {"render", "render a chat request with the model's chat template", cmd_render},
    {"serve", "serve a model over an OpenAI-compatible HTTP API", cmd_serve},
    {"pull", "download a model from the Hugging Face Hub into the cache", cmd_pull},
    {"ls", "list the models in the Hugging Face cache", cmd_ls},
    {"bench-serve", "load-test a running server (throughput, TTFT, TPOT, ITL) like vLLM", cmd_bench_serve},
};

void print_usage(FILE* out) {
  std::fprintf(out,
               "ember: run a reasoning LLM (Qwen2 family, e.g. DeepSeek-R1-Distill-Qwen-1.5B) on "
               "your own hardware\n\nusage: ember <command> [arguments] [options]\n\ncommands:\n");
  for (const auto& c : kCommands) std::fprintf(out, "  %-14s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nMODEL is a Hugging Face model directory (config.json + *.safetensors) or a "
               ".gguf file; `serve`, `run` and `chat` also take a Hugging Face repo id (ORG/NAME[:FILE.gguf]).\nRun 'ember <command> --help' for a command's options.\n");
}

}  // namespace

int report_error(const char* command, const char* message) {
  std::fprintf(stderr, "ember %s: error: %s\n", command, message);
  return 1;
}

}  // namespace ember::app

int main(int argc, char** argv) {
  using namespace ember::app;
  if (argc < 2) {
    print_usage(stderr);
    return 2;
  }
  const char* name = argv[1];
  if (!std::strcmp(name, "--help") || !std::strcmp(name, "-h") || !std::strcmp(name, "help")) {
    print_usage(stdout);
    return 0;
  }
  if (!std::strcmp(name, "--version")) {
    std::printf("ember 0.1.0\n");
    return 0;
  }
  for (const auto& c : kCommands)
    if (!std::strcmp(c.name, name)) return c.main(argc - 2, argv + 2);
  std::fprintf(stderr, "ember: unknown command '%s'\n\n", name);
  print_usage(stderr);
  return 2;
}
