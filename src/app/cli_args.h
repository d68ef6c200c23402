// A small declarative command-line parser: each subcommand declares its flags
// (with help text and defaults) and positional arguments; --help is generated.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace ember::app {

class CliArgs {
 public:
  CliArgs(std::string command, std::string summary);

  // Declarations. `value_name` empty means a boolean switch.
  void flag(const std::string& name, const std::string& help);  // --name (no value)
  void option(const std::string& name, const std::string& value_name, const std::string& help,
              const std::string& default_value = "");
  void alias(const std::string& short_name, const std::string& long_name);  // -p -> --prompt
  void positional(const std::string& name, const std::string& help, bool required = true,
                  bool variadic = false);

  // Parses argv (after the subcommand). Returns false and sets *status on a
  // usage error; sets help_requested() when --help/-h was given.
  Status parse(int argc, char** argv);
  bool help_requested() const { return help_; }
  std::string help_text() const;

  bool has(const std::string& name) const;  // flag given, or option given explicitly
  std::string get(const std::string& name) const;  // option value or its default
  Result<int64_t> get_int(const std::string& name) const;
  Result<double> get_double(const std::string& name) const;
  const std::vector<std::string>& positionals() const { return positionals_; }
  std::string positional_at(size_t i, const std::string& fallback = "") const {
    return i < positionals_.size() ? positionals_[i] : fallback;
  }

 private:
  struct Spec {
    std::string name, value_name, help, default_value;
    bool is_flag = false;
  };
  struct Positional {
    std::string name, help;
    bool required = true, variadic = false;
  };
  const Spec* find(const std::string& name) const;

  std::string command_, summary_;
  std::vector<Spec> specs_;
  std::vector<Positional> positional_specs_;
  std::map<std::string, std::string> aliases_;
  std::map<std::string, std::string> values_;
  std::vector<std::string> positionals_;
  bool help_ = false;
};

}  // namespace ember::app
