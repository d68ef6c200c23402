#include "app/cli_args.h"
#include "app/commands.h"

#include <cstdio>

namespace ember::app {

int cmd_eval(int argc, char** argv) {
  CliArgs args("eval", "Not implemented yet.");
  if (Status s = args.parse(argc, argv); !s.ok()) return report_error("eval", s.message().c_str());
  if (args.help_requested()) {
    std::fputs(args.help_text().c_str(), stdout);
    return 0;
  }
  return report_error("eval", "not implemented yet");
}

}  // namespace ember::app
