#include "server/chat_store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "base/log.h"
#include "server/chat_fields.h"

namespace ember::server {

using Json = ChatStore::Json;
using L = ChatStoreLimits;
using namespace chat_fields;

namespace {

// Schema migrations: step i takes user_version i to i + 1. Append only.
const char* const kMigrations[] = {
    // 1: conversations, the message tree, global settings.
    "CREATE TABLE conversations ("
    "  id TEXT PRIMARY KEY NOT NULL,"
    "  title TEXT NOT NULL,"
    "  settings TEXT NOT NULL DEFAULT '{}',"
    "  current_leaf TEXT,"  // a message of this conversation (checked on write) or NULL
    "  created_at INTEGER NOT NULL,"
    "  updated_at INTEGER NOT NULL);"
    "CREATE INDEX conversations_by_update ON conversations(updated_at);"
    "CREATE TABLE messages ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"  // creation order
    "  id TEXT NOT NULL UNIQUE,"
    "  conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,"
    "  parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,"
    "  role TEXT NOT NULL CHECK (role IN ('system', 'user', 'assistant')),"
    "  content TEXT NOT NULL,"
    "  reasoning TEXT,"
    "  attachments TEXT NOT NULL DEFAULT '[]',"
    "  meta TEXT NOT NULL DEFAULT '{}',"
    "  created_at INTEGER NOT NULL);"
    "CREATE INDEX messages_by_conversation ON messages(conversation_id, seq);"
    "CREATE INDEX messages_by_parent ON messages(parent_id);"
    "CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);",
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == ChatStore::kSchemaVersion);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Json parse_stored(const std::string& text, Json fallback) {
  Json j = Json::parse(text, nullptr, false);
  return j.is_discarded() ? fallback : j;
}

}  // namespace

// A cached prepared statement, reset and unbound when this goes out of scope.
class StoreStmt {
 public:
  StoreStmt(ChatStore& store, const char* sql) : store_(store), s_(store.prepare(sql, &status_)) {}
  ~StoreStmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  StoreStmt(const StoreStmt&) = delete;
  StoreStmt& operator=(const StoreStmt&) = delete;

  const Status& status() const { return status_; }
  StoreStmt& text(int i, const std::string& v) {
    return check(s_ ? sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT) : SQLITE_OK);
  }
  StoreStmt& text(int i, const std::optional<std::string>& v) { return v ? text(i, *v) : null(i); }
  StoreStmt& int64(int i, int64_t v) { return check(s_ ? sqlite3_bind_int64(s_, i, v) : SQLITE_OK); }
  StoreStmt& null(int i) { return check(s_ ? sqlite3_bind_null(s_, i) : SQLITE_OK); }
  // True at a row; false when done or failed (status() says which).
  bool row() {
    if (!s_ || !status_.ok()) return false;
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc != SQLITE_DONE) status_ = store_.db_error("chat store");
    return false;
  }
  // Runs a statement that returns no rows.
  Status run() {
    while (row()) {
    }
    return status_;
  }
  std::string col_text(int c) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, c));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(s_, c))) : std::string();
  }
  Json col_text_or_null(int c) const { return col_null(c) ? Json(nullptr) : Json(col_text(c)); }
  int64_t col_int(int c) const { return sqlite3_column_int64(s_, c); }
  bool col_null(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }

 private:
  StoreStmt& check(int rc) {
    if (rc != SQLITE_OK && status_.ok()) status_ = store_.db_error("chat store: binding a value");
    return *this;
  }
  ChatStore& store_;
  Status status_;
  sqlite3_stmt* s_;
};

// BEGIN (IMMEDIATE for writes: take the write lock first, waiting up to the
// busy timeout, so a write never fails half-way on a lock) ... COMMIT;
// rolled back unless committed.
class StoreTransaction {
 public:
  StoreTransaction(ChatStore& store, bool write) : store_(store) {
    status_ = store_.exec(write ? "BEGIN IMMEDIATE" : "BEGIN");
    open_ = status_.ok();
  }
  ~StoreTransaction() {
    if (open_) (void)store_.exec("ROLLBACK");
  }
  const Status& status() const { return status_; }
  Status commit() {
    Status s = store_.exec("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  ChatStore& store_;
  Status status_;
  bool open_ = false;
};

Result<std::unique_ptr<ChatStore>> ChatStore::open(const std::string& data_dir) {
  std::unique_ptr<ChatStore> store(new ChatStore());
  EMBER_RETURN_IF_ERROR(store->init(data_dir));
  return store;
}

ChatStore::~ChatStore() {
  for (auto& [sql, s] : statements_) sqlite3_finalize(s);
  if (db_) sqlite3_close(db_);
}

namespace {

// mkdir -p with mode 0700 for the directories it creates.
Status make_dirs(const std::string& dir) {
  for (size_t pos = 1; pos <= dir.size(); ++pos) {
    if (pos != dir.size() && dir[pos] != '/') continue;
    const std::string part = dir.substr(0, pos);
    struct stat st;
    if (::stat(part.c_str(), &st) == 0) {
      if (!S_ISDIR(st.st_mode)) return io_error("chat store: " + part + " is not a directory");
      continue;
    }
    if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST)
      return io_error("chat store: cannot create the directory " + part + ": " + std::strerror(errno));
  }
  return ok_status();
}

}  // namespace

Status ChatStore::init(const std::string& data_dir) {
  if (data_dir.empty()) return invalid_argument("chat store: the data directory is empty");
  EMBER_RETURN_IF_ERROR(make_dirs(data_dir));
  if (::access(data_dir.c_str(), W_OK | X_OK) != 0)
    return io_error("chat store: the directory " + data_dir + " is not writable: " + std::strerror(errno));
  path_ = data_dir + (data_dir.back() == '/' ? "" : "/") + "chats.db";
  struct stat st;
  const bool existed = ::stat(path_.c_str(), &st) == 0;
  const int rc = sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                                 nullptr);
  if (rc != SQLITE_OK) return io_error("chat store " + path_ + ": cannot open: " + (db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc)));
  if (!existed) ::chmod(path_.c_str(), 0600);
  if (sqlite3_db_readonly(db_, "main") == 1) return io_error("chat store " + path_ + ": the file is not writable");
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  sqlite3_extended_result_codes(db_, 1);
  std::random_device rd;
  rng_.seed((static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(now_ms()));

  auto fail = [&](const Status& s) {
    std::string m = s.message();
    if (m.rfind("chat store: ", 0) == 0) m = m.substr(12);
    return Status(s.code(), "chat store " + path_ + ": " + m +
                                (s.code() == StatusCode::kCorrupt ? " (move the file away to start with an empty store)" : ""));
  };
  // The first statements read the header: a file that is not a database fails here.
  Status s = exec("PRAGMA foreign_keys = ON");
  if (s.ok()) {
    StoreStmt q(*this, "PRAGMA journal_mode = WAL");
    if (q.row() && q.col_text(0) != "wal")
      LOG_WARN("chat store %s: WAL journal mode unavailable (%s); concurrent access will block more", path_.c_str(),
               q.col_text(0).c_str());
    s = q.status();
  }
  if (s.ok()) s = exec("PRAGMA synchronous = FULL");
  if (s.ok()) s = migrate();
  if (!s.ok()) return fail(s);
  return ok_status();
}

Status ChatStore::migrate() {
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  int64_t version = 0;
  {
    StoreStmt q(*this, "PRAGMA user_version");
    if (q.row()) version = q.col_int(0);
    EMBER_RETURN_IF_ERROR(q.status());
  }
  if (version > kSchemaVersion)
    return unsupported("made by a newer ember (schema version " + std::to_string(version) + ", this one knows " +
                       std::to_string(kSchemaVersion) + ")");
  if (version < 0) return corrupt("schema version " + std::to_string(version) + " is invalid");
  for (int64_t v = version; v < kSchemaVersion; ++v) {
    EMBER_RETURN_IF_ERROR(exec(kMigrations[v]));
    LOG_DEBUG("chat store %s: migrated to schema %lld", path_.c_str(), static_cast<long long>(v + 1));
  }
  if (version != kSchemaVersion)
    EMBER_RETURN_IF_ERROR(exec(("PRAGMA user_version = " + std::to_string(kSchemaVersion)).c_str()));
  return tx.commit();
}

Status ChatStore::db_error(const std::string& what) const {
  const int code = sqlite3_extended_errcode(db_) & 0xff;
  std::string m = what + ": " + sqlite3_errmsg(db_);
  switch (code) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return resource_exhausted(m + " (the database is locked by another process)");
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return corrupt(m);
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: return io_error(m);
    default: return internal_error(m);
  }
}

Status ChatStore::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) == SQLITE_OK) return ok_status();
  sqlite3_free(err);
  return db_error("chat store");
}

sqlite3_stmt* ChatStore::prepare(const char* sql, Status* status) {
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    *status = db_error("chat store: preparing a statement");
    return nullptr;
  }
  statements_.emplace(sql, s);
  return s;
}

std::string ChatStore::new_id(const char* prefix) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(rng_()));
  return std::string(prefix) + buf;
}

// Moves updated_at to now, and past every other conversation's (never
// back), so "most recently updated first" is the order the writes happened
// in even within one millisecond.
Status ChatStore::touch(const std::string& conversation_id, int64_t now) {
  return StoreStmt(*this, "UPDATE conversations SET updated_at = max(?2, updated_at, (SELECT coalesce(max(updated_at), 0) + 1 "
                         "FROM conversations WHERE id != ?1)) WHERE id = ?1")
      .text(1, conversation_id)
      .int64(2, now)
      .run();
}

Result<Json> ChatStore::read_message(const std::string& id) {
  StoreStmt q(*this, "SELECT id, conversation_id, parent_id, role, content, reasoning, attachments, meta, created_at "
                     "FROM messages WHERE id = ?1");
  q.text(1, id);
  if (!q.row()) return q.status().ok() ? Result<Json>(not_found("message " + id + " not found")) : q.status();
  return Json{{"id", q.col_text(0)},        {"conversation_id", q.col_text(1)},
              {"parent_id", q.col_text_or_null(2)}, {"role", q.col_text(3)},
              {"content", q.col_text(4)},   {"reasoning", q.col_text_or_null(5)},
              {"attachments", parse_stored(q.col_text(6), Json::array())},
              {"meta", parse_stored(q.col_text(7), Json::object())}, {"created_at", q.col_int(8)}};
}

namespace {
Json conversation_row(const StoreStmt& q) {
  return Json{{"id", q.col_text(0)},
              {"title", q.col_text(1)},
              {"created_at", q.col_int(2)},
              {"updated_at", q.col_int(3)},
              {"settings", parse_stored(q.col_text(4), Json::object())},
              {"current_leaf", q.col_text_or_null(5)}};
}
}  // namespace

Result<Json> ChatStore::read_conversation(const std::string& id, bool with_messages) {
  Json conv;
  {
    StoreStmt q(*this, "SELECT id, title, created_at, updated_at, settings, current_leaf FROM conversations WHERE id = ?1");
    q.text(1, id);
    if (!q.row()) return q.status().ok() ? Result<Json>(not_found("conversation " + id + " not found")) : q.status();
    conv = conversation_row(q);
  }
  if (!with_messages) return conv;
  Json messages = Json::array();
  StoreStmt q(*this, "SELECT id, conversation_id, parent_id, role, content, reasoning, attachments, meta, created_at "
                     "FROM messages WHERE conversation_id = ?1 ORDER BY seq");
  q.text(1, id);
  while (q.row())
    messages.push_back(Json{{"id", q.col_text(0)},        {"conversation_id", q.col_text(1)},
                            {"parent_id", q.col_text_or_null(2)}, {"role", q.col_text(3)},
                            {"content", q.col_text(4)},   {"reasoning", q.col_text_or_null(5)},
                            {"attachments", parse_stored(q.col_text(6), Json::array())},
                            {"meta", parse_stored(q.col_text(7), Json::object())}, {"created_at", q.col_int(8)}});
  EMBER_RETURN_IF_ERROR(q.status());
  conv["messages"] = std::move(messages);
  return conv;
}

Result<Json> ChatStore::list_conversations(const std::string& query) {
  if (utf8_chars(query) > L::kQueryChars)
    return field_error("q", "must be at most " + std::to_string(L::kQueryChars) + " characters");
  std::lock_guard<std::mutex> lock(mutex_);
  Json list = Json::array();
  if (query.empty()) {
    StoreStmt q(*this, "SELECT id, title, created_at, updated_at, settings, current_leaf FROM conversations "
                       "ORDER BY updated_at DESC, rowid DESC");
    while (q.row()) list.push_back(conversation_row(q));
    EMBER_RETURN_IF_ERROR(q.status());
    return list;
  }
  std::string pattern = "%";
  for (char c : query) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  pattern += '%';
  StoreStmt q(*this, "SELECT id, title, created_at, updated_at, settings, current_leaf FROM conversations "
                     "WHERE title LIKE ?1 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages WHERE "
                     "messages.conversation_id = conversations.id AND messages.content LIKE ?1 ESCAPE '\\') "
                     "ORDER BY updated_at DESC, rowid DESC");
  q.text(1, pattern);
  while (q.row()) list.push_back(conversation_row(q));
  EMBER_RETURN_IF_ERROR(q.status());
  return list;
}

Result<Json> ChatStore::create_conversation(const Json& body) {
  if (!body.is_object()) return field_error("body", "must be a JSON object");
  std::string title = "New chat", settings = "{}";
  if (body.contains("title") && !body["title"].is_null()) EMBER_RETURN_IF_ERROR(check_title(body["title"], "title", &title));
  if (body.contains("settings") && !body["settings"].is_null())
    EMBER_RETURN_IF_ERROR(check_object(body["settings"], "settings", &settings));
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  const std::string id = new_id("c_");
  const int64_t now = now_ms();
  EMBER_RETURN_IF_ERROR(StoreStmt(*this, "INSERT INTO conversations (id, title, settings, current_leaf, created_at, "
                                         "updated_at) VALUES (?1, ?2, ?3, NULL, ?4, ?4)")
                            .text(1, id)
                            .text(2, title)
                            .text(3, settings)
                            .int64(4, now)
                            .run());
  EMBER_RETURN_IF_ERROR(touch(id, now));
  EMBER_ASSIGN_OR_RETURN(Json conv, read_conversation(id, false));
  EMBER_RETURN_IF_ERROR(tx.commit());
  return conv;
}

Result<Json> ChatStore::get_conversation(const std::string& id) {
  if (!hex_id(id, "c_")) return not_found("conversation " + id + " not found");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, false);  // one snapshot for both queries
  EMBER_RETURN_IF_ERROR(tx.status());
  return read_conversation(id, true);
}

Result<Json> ChatStore::update_conversation(const std::string& id, const Json& body) {
  if (!hex_id(id, "c_")) return not_found("conversation " + id + " not found");
  if (!body.is_object()) return field_error("body", "must be a JSON object");
  std::optional<std::string> title, settings;
  bool set_leaf = false;
  std::optional<std::string> leaf;
  if (body.contains("title") && !body["title"].is_null()) {
    title.emplace();
    EMBER_RETURN_IF_ERROR(check_title(body["title"], "title", &*title));
  }
  if (body.contains("settings") && !body["settings"].is_null()) {
    settings.emplace();
    EMBER_RETURN_IF_ERROR(check_object(body["settings"], "settings", &*settings));
  }
  if (body.contains("current_leaf")) {
    set_leaf = true;
    const Json& v = body["current_leaf"];
    if (!v.is_null()) {
      if (!v.is_string() || !hex_id(v.get<std::string>(), "m_"))
        return field_error("current_leaf", "must be null or a message id (m_...)");
      leaf = v.get<std::string>();
    }
  }
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  EMBER_RETURN_IF_ERROR(read_conversation(id, false).status());
  if (leaf) {
    StoreStmt q(*this, "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2");
    q.text(1, *leaf).text(2, id);
    if (!q.row()) return q.status().ok() ? field_error("current_leaf", "is not a message of this conversation") : q.status();
  }
  if (title)
    EMBER_RETURN_IF_ERROR(StoreStmt(*this, "UPDATE conversations SET title = ?2 WHERE id = ?1").text(1, id).text(2, *title).run());
  if (settings)
    EMBER_RETURN_IF_ERROR(
        StoreStmt(*this, "UPDATE conversations SET settings = ?2 WHERE id = ?1").text(1, id).text(2, *settings).run());
  if (set_leaf)
    EMBER_RETURN_IF_ERROR(
        StoreStmt(*this, "UPDATE conversations SET current_leaf = ?2 WHERE id = ?1").text(1, id).text(2, leaf).run());
  // A rename or new settings moves the chat up the list; browsing branches does not.
  if (title || settings) EMBER_RETURN_IF_ERROR(touch(id, now_ms()));
  EMBER_ASSIGN_OR_RETURN(Json conv, read_conversation(id, false));
  EMBER_RETURN_IF_ERROR(tx.commit());
  return conv;
}

Status ChatStore::delete_conversation(const std::string& id) {
  if (!hex_id(id, "c_")) return not_found("conversation " + id + " not found");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  EMBER_RETURN_IF_ERROR(read_conversation(id, false).status());
  // The messages go with it (ON DELETE CASCADE).
  EMBER_RETURN_IF_ERROR(StoreStmt(*this, "DELETE FROM conversations WHERE id = ?1").text(1, id).run());
  return tx.commit();
}

Result<Json> ChatStore::add_message(const std::string& conversation_id, const Json& body) {
  if (!hex_id(conversation_id, "c_")) return not_found("conversation " + conversation_id + " not found");
  if (!body.is_object()) return field_error("body", "must be a JSON object");
  if (!body.contains("parent_id")) return field_error("parent_id", "is required (null for the first message)");
  std::optional<std::string> parent;
  if (!body["parent_id"].is_null()) {
    if (!body["parent_id"].is_string() || !hex_id(body["parent_id"].get<std::string>(), "m_"))
      return field_error("parent_id", "must be null or a message id (m_...)");
    parent = body["parent_id"].get<std::string>();
  }
  MessageFields m;
  EMBER_RETURN_IF_ERROR(check_message(body, "", true, &m));
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  EMBER_RETURN_IF_ERROR(read_conversation(conversation_id, false).status());
  if (parent) {
    StoreStmt q(*this, "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2");
    q.text(1, *parent).text(2, conversation_id);
    if (!q.row()) return q.status().ok() ? field_error("parent_id", "is not a message of this conversation") : q.status();
  }
  const std::string id = new_id("m_");
  const int64_t now = now_ms();
  EMBER_RETURN_IF_ERROR(StoreStmt(*this, "INSERT INTO messages (id, conversation_id, parent_id, role, content, reasoning, "
                                         "attachments, meta, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")
                            .text(1, id)
                            .text(2, conversation_id)
                            .text(3, parent)
                            .text(4, m.role)
                            .text(5, m.content)
                            .text(6, m.reasoning)
                            .text(7, m.attachments)
                            .text(8, m.meta)
                            .int64(9, now)
                            .run());
  EMBER_RETURN_IF_ERROR(
      StoreStmt(*this, "UPDATE conversations SET current_leaf = ?2 WHERE id = ?1").text(1, conversation_id).text(2, id).run());
  EMBER_RETURN_IF_ERROR(touch(conversation_id, now));
  EMBER_ASSIGN_OR_RETURN(Json msg, read_message(id));
  EMBER_RETURN_IF_ERROR(tx.commit());
  return msg;
}

Result<Json> ChatStore::update_message(const std::string& conversation_id, const std::string& message_id,
                                       const Json& body) {
  if (!hex_id(conversation_id, "c_")) return not_found("conversation " + conversation_id + " not found");
  if (!hex_id(message_id, "m_")) return not_found("message " + message_id + " not found");
  MessageFields m;
  MessageSet set;
  EMBER_RETURN_IF_ERROR(check_message(body, "", false, &m, &set));
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  EMBER_RETURN_IF_ERROR(read_conversation(conversation_id, false).status());
  {
    StoreStmt q(*this, "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2");
    q.text(1, message_id).text(2, conversation_id);
    if (!q.row()) return q.status().ok() ? not_found("message " + message_id + " not found in this conversation") : q.status();
  }
  if (set.content)
    EMBER_RETURN_IF_ERROR(
        StoreStmt(*this, "UPDATE messages SET content = ?2 WHERE id = ?1").text(1, message_id).text(2, m.content).run());
  if (set.reasoning)
    EMBER_RETURN_IF_ERROR(
        StoreStmt(*this, "UPDATE messages SET reasoning = ?2 WHERE id = ?1").text(1, message_id).text(2, m.reasoning).run());
  if (set.meta)
    EMBER_RETURN_IF_ERROR(
        StoreStmt(*this, "UPDATE messages SET meta = ?2 WHERE id = ?1").text(1, message_id).text(2, m.meta).run());
  if (set.content || set.reasoning || set.meta) EMBER_RETURN_IF_ERROR(touch(conversation_id, now_ms()));
  EMBER_ASSIGN_OR_RETURN(Json msg, read_message(message_id));
  EMBER_RETURN_IF_ERROR(tx.commit());
  return msg;
}

Result<Json> ChatStore::export_conversations(const std::string& id) {
  if (!id.empty() && !hex_id(id, "c_")) return not_found("conversation " + id + " not found");
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, false);
  EMBER_RETURN_IF_ERROR(tx.status());
  std::vector<std::string> ids;
  if (!id.empty()) {
    ids.push_back(id);
  } else {
    StoreStmt q(*this, "SELECT id FROM conversations ORDER BY updated_at DESC, rowid DESC");
    while (q.row()) ids.push_back(q.col_text(0));
    EMBER_RETURN_IF_ERROR(q.status());
  }
  Json list = Json::array();
  for (const auto& c : ids) {
    EMBER_ASSIGN_OR_RETURN(Json conv, read_conversation(c, true));
    list.push_back(std::move(conv));
  }
  return Json{{"version", 1}, {"conversations", std::move(list)}};
}

Result<int64_t> ChatStore::import_conversations(const Json& body) {
  if (!body.is_object()) return field_error("body", "must be a JSON object");
  if (!body.contains("version") || !body["version"].is_number_integer() || body["version"].get<int64_t>() != 1)
    return field_error("version", "must be 1 (the export format's version)");
  if (!body.contains("conversations") || !body["conversations"].is_array())
    return field_error("conversations", "must be a list");
  const Json& cs = body["conversations"];
  std::vector<ImportConversation> convs(cs.size());
  for (size_t i = 0; i < cs.size(); ++i)
    EMBER_RETURN_IF_ERROR(check_import_conversation(cs[i], "conversations[" + std::to_string(i) + "]", &convs[i]));

  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  // Messages go in in their export order (creation order), so a child may
  // come before its parent: the parent links are checked at COMMIT.
  EMBER_RETURN_IF_ERROR(exec("PRAGMA defer_foreign_keys = ON"));
  const int64_t now = now_ms();
  for (const auto& c : convs) {
    const std::string cid = new_id("c_");
    std::unordered_map<std::string, std::string> ids;  // old -> new
    for (const auto& m : c.messages) ids.emplace(m.old_id, new_id("m_"));
    std::optional<std::string> leaf;
    if (c.old_leaf) leaf = ids.at(*c.old_leaf);
    const int64_t created = c.created_at.value_or(now);
    EMBER_RETURN_IF_ERROR(StoreStmt(*this, "INSERT INTO conversations (id, title, settings, current_leaf, created_at, "
                                           "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                              .text(1, cid)
                              .text(2, c.title)
                              .text(3, c.settings)
                              .text(4, leaf)
                              .int64(5, created)
                              .int64(6, c.updated_at.value_or(created))
                              .run());
    for (const auto& m : c.messages) {
      std::optional<std::string> parent;
      if (m.old_parent) parent = ids.at(*m.old_parent);
      EMBER_RETURN_IF_ERROR(StoreStmt(*this, "INSERT INTO messages (id, conversation_id, parent_id, role, content, "
                                             "reasoning, attachments, meta, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, "
                                             "?7, ?8, ?9)")
                                .text(1, ids.at(m.old_id))
                                .text(2, cid)
                                .text(3, parent)
                                .text(4, m.fields.role)
                                .text(5, m.fields.content)
                                .text(6, m.fields.reasoning)
                                .text(7, m.fields.attachments)
                                .text(8, m.fields.meta)
                                .int64(9, m.created_at.value_or(now))
                                .run());
    }
  }
  EMBER_RETURN_IF_ERROR(tx.commit());
  return static_cast<int64_t>(convs.size());
}

Result<Json> ChatStore::settings() {
  std::lock_guard<std::mutex> lock(mutex_);
  StoreStmt q(*this, "SELECT value FROM settings WHERE key = 'global'");
  if (q.row()) return parse_stored(q.col_text(0), Json::object());
  EMBER_RETURN_IF_ERROR(q.status());
  return Json::object();
}

Status ChatStore::put_settings(const Json& settings) {
  std::string text;
  EMBER_RETURN_IF_ERROR(check_object(settings, "body", &text));
  std::lock_guard<std::mutex> lock(mutex_);
  StoreTransaction tx(*this, true);
  EMBER_RETURN_IF_ERROR(tx.status());
  EMBER_RETURN_IF_ERROR(StoreStmt(*this, "INSERT INTO settings (key, value) VALUES ('global', ?1) "
                                         "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                            .text(1, text)
                            .run());
  return tx.commit();
}

}  // namespace ember::server
