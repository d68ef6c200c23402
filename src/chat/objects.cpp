#include "chat/objects.h"

#include "chat/value_format.h"

namespace ember::chat {

std::string NamespaceObject::repr(int depth) const {
  return "<Namespace " + python_repr(Value::dict(const_cast<DictObject*>(&attrs)), depth) + ">";
}

}  // namespace ember::chat
