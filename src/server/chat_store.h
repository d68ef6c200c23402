// The web UI's conversations, kept on the server in SQLite (DATA_DIR/chats.db):
// what docs/chat-store-api.md describes, without the HTTP (routes_api.cpp).
// Conversations hold a tree of messages (parent_id; editing or regenerating
// adds a sibling) and the leaf of the branch on screen; global settings are
// one JSON object. Every call validates its untrusted JSON input and reports
// a Status: kInvalidArgument "param: why" (a 400 naming the field), kNotFound
// (404), kResourceExhausted (the database stayed locked by another process),
// anything else a server-side failure. Never throws.
//
// Thread-safe: one connection behind a mutex. SQLite admits one writer at a
// time anyway, so a connection per thread (httplib runs up to http_threads
// handlers at once) would only trade the mutex for SQLITE_BUSY waits between
// our own threads; every call here is a few indexed statements. WAL and the
// busy timeout are for other processes on the same file (a second ember
// serve, the sqlite3 shell): readers never block the writer, and a writer
// waits for the lock instead of failing.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace ember::server {

struct ChatStoreLimits {
  static constexpr size_t kTitleChars = 500;            // code points
  static constexpr size_t kContentBytes = 8u << 20;     // content, reasoning, one attachment's text
  static constexpr size_t kObjectBytes = 1u << 20;      // settings, meta (serialized)
  static constexpr int kObjectDepth = 32;               // nesting of settings / meta
  static constexpr size_t kAttachments = 64;            // per message
  static constexpr size_t kQueryChars = 1000;           // search text
};

class ChatStore {
 public:
  using Json = nlohmann::ordered_json;
  static constexpr int kSchemaVersion = 1;  // PRAGMA user_version after the migrations
  static constexpr int kBusyTimeoutMs = 10000;

  // Opens DATA_DIR/chats.db, creating the directory (mode 0700) and the
  // file (0600). A file that is not a database, or one made by a newer
  // ember, or an unwritable directory is an error naming the path.
  static Result<std::unique_ptr<ChatStore>> open(const std::string& data_dir);
  ~ChatStore();
  ChatStore(const ChatStore&) = delete;
  ChatStore& operator=(const ChatStore&) = delete;

  const std::string& path() const { return path_; }

  // Conversations, most recently updated first; a non-empty `query` keeps
  // those whose title or a message's content contains it (ASCII
  // case-insensitive; % and _ are literal).
  Result<Json> list_conversations(const std::string& query = "");
  // {"title"?, "settings"?} -> the new conversation.
  Result<Json> create_conversation(const Json& body);
  // The conversation with "messages": every message, in creation order.
  Result<Json> get_conversation(const std::string& id);
  // {"title"?, "settings"?, "current_leaf"?}
  Result<Json> update_conversation(const std::string& id, const Json& body);
  Status delete_conversation(const std::string& id);
  // {"parent_id", "role", "content", "reasoning"?, "attachments"?, "meta"?};
  // moves current_leaf to the new message and bumps updated_at.
  Result<Json> add_message(const std::string& conversation_id, const Json& body);
  // {"content"?, "reasoning"?, "meta"?}
  Result<Json> update_message(const std::string& conversation_id, const std::string& message_id, const Json& body);
  // {"version": 1, "conversations": [conversation + "messages"...]}: all of
  // them, or the one `id` names.
  Result<Json> export_conversations(const std::string& id = "");
  // Body as export gives; every conversation and message gets a new id
  // (parent links and current_leaf remapped), all in one transaction.
  // Returns how many conversations were added.
  Result<int64_t> import_conversations(const Json& body);
  // The global defaults object ({} until set); put replaces it.
  Result<Json> settings();
  Status put_settings(const Json& settings);

 private:
  ChatStore() = default;
  Status init(const std::string& data_dir);
  Status migrate();
  Status exec(const char* sql);
  Status db_error(const std::string& what) const;
  sqlite3_stmt* prepare(const char* sql, Status* status);
  std::string new_id(const char* prefix);
  Result<Json> read_conversation(const std::string& id, bool with_messages);
  Result<Json> read_message(const std::string& id);
  Status touch(const std::string& conversation_id, int64_t now);
  friend class StoreStmt;
  friend class StoreTransaction;

  std::mutex mutex_;  // guards everything below
  sqlite3* db_ = nullptr;
  std::string path_;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;  // by SQL text (string literals)
  std::mt19937_64 rng_;
};

}  // namespace ember::server
