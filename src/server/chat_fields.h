// Validation of the chat store's untrusted JSON input (chat_store.cpp):
// each check returns kInvalidArgument "param: why", `param` the field's path
// in the body ("title", "conversations[2].messages[0].role").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/status.h"

namespace ember::server::chat_fields {

using Json = nlohmann::ordered_json;

Status field_error(const std::string& param, const std::string& why);
size_t utf8_chars(const std::string& s);
// A store-made id: `prefix` then 1 to 64 lowercase hex digits.
bool hex_id(const std::string& s, const char* prefix);

Status check_string(const Json& v, const std::string& param, size_t max_bytes, std::string* out);
// Not empty, at most ChatStoreLimits::kTitleChars code points.
Status check_title(const Json& v, const std::string& param, std::string* out);
// A free-form JSON object (settings, meta), bounded in depth and size; `out` its serialization.
Status check_object(const Json& v, const std::string& param, std::string* out);

// A message body's fields, validated; attachments and meta serialized.
struct MessageFields {
  std::string role, content;
  std::optional<std::string> reasoning;
  std::string attachments = "[]", meta = "{}";
};
// Which editable fields a PATCH gave.
struct MessageSet {
  bool content = false, reasoning = false, meta = false;
};
// `p` prefixes the param names ("" or "conversations[0].messages[3].").
// `creating`: role and content are required (POST, import); otherwise only
// content, reasoning and meta count (PATCH) and `set` says which were given.
Status check_message(const Json& m, const std::string& p, bool creating, MessageFields* out, MessageSet* set = nullptr);

// One conversation of an import, with the ids of the export (mapped to new ones on insert).
struct ImportMessage {
  std::string old_id;
  std::optional<std::string> old_parent;
  MessageFields fields;
  std::optional<int64_t> created_at;
};
struct ImportConversation {
  std::string title = "New chat", settings = "{}";
  std::optional<int64_t> created_at, updated_at;
  std::optional<std::string> old_leaf;
  std::vector<ImportMessage> messages;
};
// Also checks that every parent is a message of the conversation and the
// parent links form a forest (no cycle).
Status check_import_conversation(const Json& c, const std::string& p, ImportConversation* out);

}  // namespace ember::server::chat_fields
