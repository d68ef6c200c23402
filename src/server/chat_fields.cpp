#include "server/chat_fields.h"

#include <cstring>
#include <unordered_map>

#include "server/chat_store.h"

namespace ember::server::chat_fields {

using L = ChatStoreLimits;

namespace {

bool too_deep(const Json& j, int depth_left) {
  if (!j.is_structured()) return false;
  if (depth_left == 0) return true;
  for (const auto& v : j)
    if (too_deep(v, depth_left - 1)) return true;
  return false;
}

Status check_time(const Json& v, const std::string& param, int64_t* out) {
  if (!v.is_number_integer() || v.get<int64_t>() < 0) return field_error(param, "must be a non-negative integer (Unix ms)");
  *out = v.get<int64_t>();
  return ok_status();
}

}  // namespace

Status field_error(const std::string& param, const std::string& why) { return invalid_argument(param + ": " + why); }

size_t utf8_chars(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Status check_string(const Json& v, const std::string& param, size_t max_bytes, std::string* out) {
  if (!v.is_string()) return field_error(param, "must be a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.size() > max_bytes) return field_error(param, "must be at most " + std::to_string(max_bytes) + " bytes");
  *out = s;
  return ok_status();
}

Status check_title(const Json& v, const std::string& param, std::string* out) {
  if (!v.is_string()) return field_error(param, "must be a string");
  const auto& s = v.get_ref<const std::string&>();
  if (s.empty()) return field_error(param, "must not be empty");
  if (utf8_chars(s) > L::kTitleChars)
    return field_error(param, "must be at most " + std::to_string(L::kTitleChars) + " characters");
  *out = s;
  return ok_status();
}

Status check_object(const Json& v, const std::string& param, std::string* out) {
  if (!v.is_object()) return field_error(param, "must be a JSON object");
  if (too_deep(v, L::kObjectDepth))
    return field_error(param, "is nested more than " + std::to_string(L::kObjectDepth) + " levels deep");
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  if (s.size() > L::kObjectBytes) return field_error(param, "must be at most " + std::to_string(L::kObjectBytes) + " bytes");
  *out = std::move(s);
  return ok_status();
}

bool hex_id(const std::string& s, const char* prefix) {
  const size_t p = std::strlen(prefix);
  if (s.size() <= p || s.size() > p + 64 || s.compare(0, p, prefix) != 0) return false;
  for (size_t i = p; i < s.size(); ++i)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

namespace {

Status check_attachments(const Json& v, const std::string& param, std::string* out) {
  if (!v.is_array()) return field_error(param, "must be a list of {\"name\", \"text\"} objects");
  if (v.size() > L::kAttachments) return field_error(param, "must have at most " + std::to_string(L::kAttachments) + " files");
  Json list = Json::array();
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string p = param + "[" + std::to_string(i) + "]";
    const Json& a = v[i];
    if (!a.is_object()) return field_error(p, "must be an object with name and text");
    Json item = Json::object();
    std::string s;
    if (!a.contains("name")) return field_error(p + ".name", "is required");
    EMBER_RETURN_IF_ERROR(check_title(a["name"], p + ".name", &s));
    item["name"] = s;
    if (!a.contains("text")) return field_error(p + ".text", "is required");
    EMBER_RETURN_IF_ERROR(check_string(a["text"], p + ".text", L::kContentBytes, &s));
    item["text"] = s;
    if (a.contains("type") && !a["type"].is_null()) {
      EMBER_RETURN_IF_ERROR(check_string(a["type"], p + ".type", 100, &s));
      item["type"] = s;
    }
    if (a.contains("bytes") && !a["bytes"].is_null()) {
      if (!a["bytes"].is_number_integer() || a["bytes"].get<int64_t>() < 0)
        return field_error(p + ".bytes", "must be a non-negative integer");
      item["bytes"] = a["bytes"];
    }
    list.push_back(std::move(item));
  }
  *out = list.dump(-1, ' ', false, Json::error_handler_t::replace);
  return ok_status();
}

}  // namespace

Status check_message(const Json& m, const std::string& p, bool creating, MessageFields* out, MessageSet* set) {
  if (!m.is_object()) return field_error(p.empty() ? "body" : p.substr(0, p.size() - 1), "must be a JSON object");
  auto has = [&](const char* k) { return m.contains(k) && !m[k].is_null(); };
  if (creating) {
    if (!has("role")) return field_error(p + "role", "is required");
    if (!m["role"].is_string()) return field_error(p + "role", "must be a string");
    out->role = m["role"].get<std::string>();
    if (out->role != "system" && out->role != "user" && out->role != "assistant")
      return field_error(p + "role", "must be one of system, user, assistant");
    if (!has("content")) return field_error(p + "content", "is required");
  }
  MessageSet s;
  if (has("content")) {
    EMBER_RETURN_IF_ERROR(check_string(m["content"], p + "content", L::kContentBytes, &out->content));
    s.content = true;
  }
  if (m.contains("reasoning")) {
    s.reasoning = true;
    if (!m["reasoning"].is_null()) {
      std::string r;
      EMBER_RETURN_IF_ERROR(check_string(m["reasoning"], p + "reasoning", L::kContentBytes, &r));
      out->reasoning = std::move(r);
    }
  }
  if (has("meta")) {
    EMBER_RETURN_IF_ERROR(check_object(m["meta"], p + "meta", &out->meta));
    s.meta = true;
  }
  if (creating && has("attachments")) EMBER_RETURN_IF_ERROR(check_attachments(m["attachments"], p + "attachments", &out->attachments));
  if (set) *set = s;
  return ok_status();
}

Status check_import_conversation(const Json& c, const std::string& p, ImportConversation* out) {
  if (!c.is_object()) return field_error(p, "must be a conversation object");
  auto has = [&](const char* k) { return c.contains(k) && !c[k].is_null(); };
  if (has("title")) EMBER_RETURN_IF_ERROR(check_title(c["title"], p + ".title", &out->title));
  if (has("settings")) EMBER_RETURN_IF_ERROR(check_object(c["settings"], p + ".settings", &out->settings));
  int64_t t = 0;
  if (has("created_at")) {
    EMBER_RETURN_IF_ERROR(check_time(c["created_at"], p + ".created_at", &t));
    out->created_at = t;
  }
  if (has("updated_at")) {
    EMBER_RETURN_IF_ERROR(check_time(c["updated_at"], p + ".updated_at", &t));
    out->updated_at = t;
  }
  if (has("current_leaf")) {
    if (!c["current_leaf"].is_string()) return field_error(p + ".current_leaf", "must be null or a message id");
    out->old_leaf = c["current_leaf"].get<std::string>();
  }
  if (!has("messages")) return ok_status();
  const Json& ms = c["messages"];
  if (!ms.is_array()) return field_error(p + ".messages", "must be a list");
  std::unordered_map<std::string, size_t> index;  // old id -> position
  for (size_t i = 0; i < ms.size(); ++i) {
    const std::string mp = p + ".messages[" + std::to_string(i) + "]";
    const Json& m = ms[i];
    ImportMessage im;
    EMBER_RETURN_IF_ERROR(check_message(m, mp + ".", true, &im.fields));
    if (!m.contains("id") || !m["id"].is_string() || m["id"].get<std::string>().empty())
      return field_error(mp + ".id", "must be a non-empty string");
    im.old_id = m["id"].get<std::string>();
    if (!index.emplace(im.old_id, i).second) return field_error(mp + ".id", "repeats an earlier message's id");
    if (m.contains("parent_id") && !m["parent_id"].is_null()) {
      if (!m["parent_id"].is_string()) return field_error(mp + ".parent_id", "must be null or a message id");
      im.old_parent = m["parent_id"].get<std::string>();
    }
    if (m.contains("created_at") && !m["created_at"].is_null()) {
      EMBER_RETURN_IF_ERROR(check_time(m["created_at"], mp + ".created_at", &t));
      im.created_at = t;
    }
    out->messages.push_back(std::move(im));
  }
  // Every parent is a message of this conversation, and the links form a
  // forest: walking up from any message reaches a root.
  std::vector<int> state(out->messages.size(), 0);  // 0 unseen, 1 on the current path, 2 reaches a root
  for (size_t i = 0; i < out->messages.size(); ++i) {
    std::vector<size_t> path;
    size_t at = i;
    while (state[at] == 0) {
      state[at] = 1;
      path.push_back(at);
      const auto& parent = out->messages[at].old_parent;
      if (!parent) break;
      auto it = index.find(*parent);
      if (it == index.end())
        return field_error(p + ".messages[" + std::to_string(at) + "].parent_id", "is not a message of this conversation");
      at = it->second;
    }
    if (state[at] == 1 && out->messages[at].old_parent)
      return field_error(p + ".messages[" + std::to_string(at) + "].parent_id", "makes the parent links a cycle");
    for (size_t k : path) state[k] = 2;
  }
  if (out->old_leaf && !index.count(*out->old_leaf))
    return field_error(p + ".current_leaf", "is not a message of this conversation");
  return ok_status();
}

}  // namespace ember::server::chat_fields
