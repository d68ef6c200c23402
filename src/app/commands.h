// Subcommands of the `ember` binary. Each lives in its own cmd_<name>.cpp and
// receives the arguments after its name; it returns the process exit code.
#pragma once

namespace ember::app {

struct Command {
  const char* name;
  const char* summary;
  int (*main)(int argc, char** argv);
};

int cmd_info(int argc, char** argv);
int cmd_eval(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_make_random(int argc, char** argv);
int cmd_run(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_detokenize(int argc, char** argv);
int cmd_render(int argc, char** argv);
int cmd_serve(int argc, char** argv);
int cmd_pull(int argc, char** argv);
int cmd_ls(int argc, char** argv);
int cmd_bench_serve(int argc, char** argv);

// Prints "ember CMD: error: <status>" and returns the exit code for a failure.
int report_error(const char* command, const char* message);

}  // namespace ember::app
