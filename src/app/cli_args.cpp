#include "app/cli_args.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <sstream>

namespace ember::app {

CliArgs::CliArgs(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

void CliArgs::flag(const std::string& name, const std::string& help) {
  specs_.push_back({name, "", help, "", true});
}

void CliArgs::option(const std::string& name, const std::string& value_name,
                     const std::string& help, const std::string& default_value) {
  specs_.push_back({name, value_name, help, default_value, false});
}

void CliArgs::alias(const std::string& short_name, const std::string& long_name) {
  aliases_[short_name] = long_name;
}

void CliArgs::positional(const std::string& name, const std::string& help, bool required,
                         bool variadic) {
  positional_specs_.push_back({name, help, required, variadic});
}

const CliArgs::Spec* CliArgs::find(const std::string& name) const {
  for (const auto& s : specs_)
    if (s.name == name) return &s;
  return nullptr;
}

Status CliArgs::parse(int argc, char** argv) {
  bool only_positionals = false;
  for (int i = 0; i < argc; ++i) {
    std::string arg = argv[i];
    if (!only_positionals && arg == "--") {
      only_positionals = true;
      continue;
    }
    if (!only_positionals && (arg == "--help" || arg == "-h")) {
      help_ = true;
      return ok_status();
    }
    if (!only_positionals && arg.size() > 1 && arg[0] == '-' &&
        !(arg.size() > 1 && (std::isdigit(static_cast<unsigned char>(arg[1])) || arg[1] == '.'))) {
      std::string name, value;
      bool has_value = false;
      if (auto it = aliases_.find(arg); it != aliases_.end()) {
        name = it->second;
      } else if (arg.rfind("--", 0) == 0) {
        name = arg.substr(2);
        if (auto eq = name.find('='); eq != std::string::npos) {
          value = name.substr(eq + 1);
          name = name.substr(0, eq);
          has_value = true;
        }
      } else {
        return invalid_argument("unknown option '" + arg + "' (see ember " + command_ + " --help)");
      }
      const Spec* spec = find(name);
      if (!spec)
        return invalid_argument("unknown option '--" + name + "' (see ember " + command_ + " --help)");
      if (spec->is_flag) {
        if (has_value) return invalid_argument("--" + name + " takes no value");
        values_[name] = "1";
        continue;
      }
      if (!has_value) {
        if (i + 1 >= argc) return invalid_argument("--" + name + " needs a value <" + spec->value_name + ">");
        value = argv[++i];
      }
      values_[name] = value;
      continue;
    }
    positionals_.push_back(arg);
  }
  size_t required = 0;
  bool variadic = false;
  for (const auto& p : positional_specs_) {
    if (p.required) ++required;
    variadic |= p.variadic;
  }
  if (positionals_.size() < required)
    return invalid_argument("missing argument <" + positional_specs_[positionals_.size()].name +
                            "> (see ember " + command_ + " --help)");
  if (!variadic && positionals_.size() > positional_specs_.size())
    return invalid_argument("unexpected argument '" + positionals_[positional_specs_.size()] +
                            "' (see ember " + command_ + " --help)");
  return ok_status();
}

std::string CliArgs::help_text() const {
  std::ostringstream out;
  out << "usage: ember " << command_;
  for (const auto& p : positional_specs_)
    out << (p.required ? " <" : " [") << p.name << (p.variadic ? "..." : "")
        << (p.required ? ">" : "]");
  if (!specs_.empty()) out << " [options]";
  out << "\n\n" << summary_ << "\n";
  if (!positional_specs_.empty()) {
    out << "\narguments:\n";
    for (const auto& p : positional_specs_) {
      std::string head = "  " + p.name;
      out << head << std::string(head.size() < 28 ? 28 - head.size() : 1, ' ') << p.help << "\n";
    }
  }
  if (!specs_.empty()) {
    out << "\noptions:\n";
    for (const auto& s : specs_) {
      std::string head = "  ";
      for (const auto& [short_name, long_name] : aliases_)
        if (long_name == s.name) head += short_name + ", ";
      head += "--" + s.name;
      if (!s.is_flag) head += " " + s.value_name;
      out << head << std::string(head.size() < 28 ? 28 - head.size() : 1, ' ') << s.help;
      if (!s.default_value.empty()) out << " (default: " << s.default_value << ")";
      out << "\n";
    }
  }
  out << "  -h, --help                  show this help\n";
  return out.str();
}

bool CliArgs::has(const std::string& name) const { return values_.count(name) > 0; }

std::string CliArgs::get(const std::string& name) const {
  if (auto it = values_.find(name); it != values_.end()) return it->second;
  if (const Spec* s = find(name)) return s->default_value;
  return "";
}

Result<int64_t> CliArgs::get_int(const std::string& name) const {
  const std::string v = get(name);
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || errno == ERANGE)
    return invalid_argument("--" + name + ": expected an integer, got '" + v + "'");
  return static_cast<int64_t>(x);
}

Result<double> CliArgs::get_double(const std::string& name) const {
  const std::string v = get(name);
  errno = 0;
  char* end = nullptr;
  const double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0' || errno == ERANGE)
    return invalid_argument("--" + name + ": expected a number, got '" + v + "'");
  return x;
}

}  // namespace ember::app
