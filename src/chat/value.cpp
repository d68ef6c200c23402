#include "chat/value.h"

#include <cmath>
#include <cstring>

#include "chat/template_error.h"

namespace ember::chat {

std::string Object::repr(int) const { return std::string("<") + type_name() + " object>"; }

Value Value::undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.str_ = std::make_shared<const std::string>(std::move(hint));
  return v;
}

Value Value::boolean(bool b) {
  Value v(ValueKind::kBool);
  v.u_.b = b;
  return v;
}

Value Value::integer(int64_t i) {
  Value v(ValueKind::kInt);
  v.u_.i = i;
  return v;
}

Value Value::number(double f) {
  Value v(ValueKind::kFloat);
  v.u_.f = f;
  return v;
}

Value Value::string(std::string s) {
  Value v(ValueKind::kString);
  v.str_ = std::make_shared<const std::string>(std::move(s));
  return v;
}

Value Value::markup(std::string s) {
  Value v = string(std::move(s));
  v.markup_ = true;
  return v;
}

Value Value::string(std::shared_ptr<const std::string> s) {
  Value v(ValueKind::kString);
  v.str_ = std::move(s);
  return v;
}

Value Value::list(ListObject* l) {
  Value v(ValueKind::kList);
  v.u_.o = l;
  return v;
}

Value Value::dict(DictObject* d) {
  Value v(ValueKind::kDict);
  v.u_.o = d;
  return v;
}

Value Value::object(Object* o) {
  Value v(ValueKind::kObject);
  v.u_.o = o;
  return v;
}

double Value::as_float() const {
  switch (kind_) {
    case ValueKind::kBool: return u_.b ? 1.0 : 0.0;
    case ValueKind::kInt: return static_cast<double>(u_.i);
    case ValueKind::kFloat: return u_.f;
    default: return 0.0;
  }
}

std::optional<std::string> DictObject::key_of(const Value& key) {
  switch (key.kind()) {
    case ValueKind::kNone: return std::string("n");
    case ValueKind::kBool:
    case ValueKind::kInt: return "i" + std::to_string(key.as_int());
    case ValueKind::kFloat: {
      double f = key.as_float();
      if (std::isfinite(f) && f == std::floor(f) && std::fabs(f) < 9.2e18) {
        return "i" + std::to_string(static_cast<int64_t>(f));
      }
      if (std::isnan(f)) return std::string("fnan");
      char buf[sizeof(double)];
      std::memcpy(buf, &f, sizeof f);
      return "f" + std::string(buf, sizeof buf);
    }
    case ValueKind::kString: return "s" + key.as_string();
    default: return std::nullopt;
  }
}

const Value* DictObject::find(const Value& key) const {
  if (key.is_string()) return find(std::string_view(key.as_string()));
  std::optional<std::string> k = key_of(key);
  if (!k) return nullptr;
  auto it = index_.find(*k);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

const Value* DictObject::find(std::string_view key) const {
  std::string k;
  k.reserve(key.size() + 1);
  k.push_back('s');
  k.append(key);
  auto it = index_.find(k);
  return it == index_.end() ? nullptr : &entries_[it->second].second;
}

bool DictObject::set(const Value& key, Value value) {
  std::optional<std::string> k = key_of(key);
  if (!k) return false;
  auto [it, inserted] = index_.emplace(std::move(*k), entries_.size());
  if (inserted) {
    entries_.emplace_back(key, std::move(value));
  } else {
    entries_[it->second].second = std::move(value);
  }
  return true;
}

ListObject* Arena::make_list(std::vector<Value> items, bool is_tuple) {
  charge(items.size() * sizeof(Value));
  ListObject* l = make<ListObject>();
  l->items = std::move(items);
  l->is_tuple = is_tuple;
  return l;
}

DictObject* Arena::make_dict() { return make<DictObject>(); }

void Arena::charge(size_t bytes) {
  used_ += bytes;
  if (used_ > budget_) {
    throw_limit("template used more than " + std::to_string(budget_ >> 20) +
                " MiB for lists and dicts");
  }
}

}  // namespace ember::chat
