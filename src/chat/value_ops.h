// Python semantics of operators on Values: truthiness, ==, <, arithmetic,
// `in`, % formatting. Type errors throw TemplateError with Python's wording.
#pragma once

#include <string>

#include "chat/ast.h"
#include "chat/value.h"

namespace ember::chat {

class Evaluator;

bool truthy(const Value& v);
bool equals(const Value& a, const Value& b, int depth = 0);
bool less(const Value& a, const Value& b, int depth = 0);  // a < b, or a TypeError
bool compare(CompareOp op, const Value& a, const Value& b);  // not kIn / kNotIn
bool contains(const Value& container, const Value& item);   // item in container
Value binary_op(Evaluator& ev, BinaryOp op, const Value& a, const Value& b);
Value negate(const Value& v);
Value unary_plus(const Value& v);
// printf-style "%s %d" % args (Python's str % operator).
std::string percent_format(Evaluator& ev, const std::string& format, const Value& args);

}  // namespace ember::chat
