// Lookup tables for Jinja filters and tests, Python methods on str / list /
// dict, and the global functions (range, namespace, dict, raise_exception,
// strftime_now, cycler, joiner). All tables are immutable and shared.
#pragma once

#include <string_view>

#include "chat/objects.h"
#include "chat/value.h"

namespace ember::chat {

using FilterFn = Value (*)(Evaluator&, const Value& input, CallArgs& args);
using TestFn = bool (*)(Evaluator&, const Value& input, CallArgs& args);
using MethodFn = Value (*)(Evaluator&, const Value& self, CallArgs& args);

FilterFn find_filter(std::string_view name);  // nullptr when unknown
TestFn find_test(std::string_view name);
// Methods of str / list / dict values (nullptr when the type has no such method).
MethodFn find_method(const Value& self, std::string_view name);
// Python attribute names of a dict that shadow its keys in `d.name` lookups.
bool is_dict_attribute(std::string_view name);
// Global functions; nullptr when no such global.
const BuiltinFunction* find_global(std::string_view name);
// Methods of objects: loop.cycle / loop.changed, cycler.next / reset.
Value call_object_method(Evaluator& ev, Object* self, std::string_view name, CallArgs& args);

// Reads arguments the way Python binds them: positional first, then by name.
// Unknown keyword arguments and too many positional ones are errors.
class ArgReader {
 public:
  ArgReader(const CallArgs& args, std::string_view function,
            std::initializer_list<std::string_view> params);
  const Value* get(size_t index) const { return index < bound_.size() ? bound_[index] : nullptr; }
  bool has(size_t index) const { return get(index) != nullptr; }
  Value value_or(size_t index, Value fallback) const {
    const Value* v = get(index);
    return v != nullptr ? *v : fallback;
  }
  // Argument as an int (bool counts); errors name the function and parameter.
  int64_t get_int(size_t index, int64_t fallback) const;
  std::string get_string(size_t index, std::string fallback) const;
  bool get_bool(size_t index, bool fallback) const;

 private:
  std::string_view function_;
  std::vector<std::string_view> params_;
  std::vector<const Value*> bound_;
};

}  // namespace ember::chat
