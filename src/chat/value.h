// Value: what template expressions evaluate to. Python's data model as far
// as Jinja exposes it: undefined (distinct from none), none, bool, int
// (64-bit; overflow is an error, not a bigint), float, str (UTF-8 bytes,
// shared and immutable), list / tuple, dict (insertion ordered) and other
// objects (namespace, macro, loop, bound method, ...).
//
// Lists, dicts and objects live in the Arena of one render and are referenced
// by raw pointer, so values copy cheaply, mutation through namespace() or
// list.append is visible to every holder (reference semantics, as in Python),
// cycles cannot leak and freeing never recurses. The arena charges every
// allocation to the render's memory budget.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ember::chat {

class Object;
class ListObject;
class DictObject;

enum class ValueKind : uint8_t {
  kUndefined,
  kNone,
  kBool,
  kInt,
  kFloat,
  kString,
  kList,    // list or tuple (ListObject::is_tuple)
  kDict,
  kObject,  // namespace, macro, loop, builtin function, bound method, ...
};

class Value {
 public:
  Value() = default;  // undefined without a hint
  static Value undefined(std::string hint);
  static Value none() { return Value(ValueKind::kNone); }
  static Value boolean(bool b);
  static Value integer(int64_t i);
  static Value number(double f);
  static Value string(std::string s);
  static Value string(std::shared_ptr<const std::string> s);
  // markupsafe.Markup: a string marked safe (|safe, |escape). Adding a plain
  // string to it HTML-escapes the plain one, as in Python.
  static Value markup(std::string s);
  static Value list(ListObject* l);
  static Value dict(DictObject* d);
  static Value object(Object* o);

  ValueKind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == ValueKind::kUndefined; }
  bool is_none() const { return kind_ == ValueKind::kNone; }
  bool is_bool() const { return kind_ == ValueKind::kBool; }
  bool is_int() const { return kind_ == ValueKind::kInt; }
  bool is_float() const { return kind_ == ValueKind::kFloat; }
  bool is_number() const { return is_bool() || is_int() || is_float(); }  // Python's Number
  bool is_integral() const { return is_bool() || is_int(); }               // int or bool
  bool is_string() const { return kind_ == ValueKind::kString; }
  bool is_markup() const { return kind_ == ValueKind::kString && markup_; }
  bool is_list() const { return kind_ == ValueKind::kList; }
  bool is_dict() const { return kind_ == ValueKind::kDict; }
  bool is_object() const { return kind_ == ValueKind::kObject; }

  bool as_bool() const { return u_.b; }
  int64_t as_int() const { return is_bool() ? (u_.b ? 1 : 0) : u_.i; }  // int or bool
  double as_float() const;                                              // any number
  const std::string& as_string() const { return *str_; }
  const std::shared_ptr<const std::string>& string_ptr() const { return str_; }
  ListObject* as_list() const;  // kList only
  DictObject* as_dict() const;  // kDict only
  Object* as_object() const { return u_.o; }
  // Why it is undefined, e.g. "'foo' is undefined"; empty when unknown.
  std::string_view undefined_hint() const { return str_ ? std::string_view(*str_) : std::string_view(); }

 private:
  explicit Value(ValueKind k) : kind_(k) {}

  ValueKind kind_ = ValueKind::kUndefined;
  bool markup_ = false;
  union {
    bool b;
    int64_t i;
    double f;
    Object* o;
  } u_{};
  std::shared_ptr<const std::string> str_;  // string payload, or the undefined hint
};

// Base of everything the arena owns.
class Object {
 public:
  virtual ~Object() = default;
  // Python's type(x).__name__, for error messages.
  virtual const char* type_name() const { return "object"; }
  // Python's repr(); `depth` guards recursion through nested values.
  virtual std::string repr(int depth) const;
  virtual bool is_callable() const { return false; }
};

class ListObject : public Object {
 public:
  const char* type_name() const override { return is_tuple ? "tuple" : "list"; }
  std::vector<Value> items;
  bool is_tuple = false;
  bool is_group = false;  // groupby()'s (grouper, list) tuples: .grouper / .list
};

// Keys are compared the Python way (1, 1.0 and true are one key); only none,
// bool, numbers and strings can be keys.
class DictObject : public Object {
 public:
  const char* type_name() const override { return "dict"; }
  // nullopt when the value cannot be a key ("unhashable type").
  static std::optional<std::string> key_of(const Value& key);

  const Value* find(const Value& key) const;
  const Value* find(std::string_view key) const;
  // Inserts or overwrites, keeping the first insertion's position. Returns
  // false when the key is unhashable.
  bool set(const Value& key, Value value);
  size_t size() const { return entries_.size(); }
  const std::vector<std::pair<Value, Value>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<Value, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;
};

inline ListObject* Value::as_list() const { return static_cast<ListObject*>(u_.o); }
inline DictObject* Value::as_dict() const { return static_cast<DictObject*>(u_.o); }

// Owns every list, dict and object made during one render. Each allocation is
// charged against a byte budget; going over throws a resource_exhausted
// TemplateError.
class Arena {
 public:
  explicit Arena(size_t budget_bytes) : budget_(budget_bytes) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  template <class T, class... Args>
  T* make(Args&&... args) {
    charge(sizeof(T) + 16);
    auto owned = std::make_unique<T>(std::forward<Args>(args)...);
    T* raw = owned.get();
    objects_.push_back(std::move(owned));
    return raw;
  }
  ListObject* make_list(std::vector<Value> items, bool is_tuple = false);
  DictObject* make_dict();
  void charge(size_t bytes);
  size_t used() const { return used_; }

 private:
  std::vector<std::unique_ptr<Object>> objects_;
  size_t budget_;
  size_t used_ = 0;
};

}  // namespace ember::chat
