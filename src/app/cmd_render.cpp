#include "app/cli_args.h"
#include "app/commands.h"

#include <cstdio>

namespace ember::app {

int cmd_render(int argc, char** argv) {
  CliArgs args("render", "Not implemented yet.");
  if (Status s = args.parse(argc, argv); !s.ok()) return report_error("render", s.message().c_str());
  if (args.help_requested()) {
    std::fputs(args.help_text().c_str(), stdout);
    return 0;
  }
  return report_error("render", "not implemented yet");
}

}  // namespace ember::app
