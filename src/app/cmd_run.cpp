#include "app/cli_args.h"
#include "app/commands.h"

#include <cstdio>

namespace ember::app {

int cmd_run(int argc, char** argv) {
  CliArgs args("run", "Not implemented yet.");
  if (Status s = args.parse(argc, argv); !s.ok()) return report_error("run", s.message().c_str());
  if (args.help_requested()) {
    std::fputs(args.help_text().c_str(), stdout);
    return 0;
  }
  return report_error("run", "not implemented yet");
}

}  // namespace ember::app
