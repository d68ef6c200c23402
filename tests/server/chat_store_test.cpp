// The chat store alone: SQLite files in a fresh temporary directory per test.
#include "server/chat_store.h"

#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace ember::server {
namespace {

using Json = ChatStore::Json;

class ChatStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember-chat-store-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data/ember";  // not there yet: open creates it
    store_ = open_store();
    ASSERT_NE(store_, nullptr);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(root_);
  }
  std::unique_ptr<ChatStore> open_store() {
    auto s = ChatStore::open(dir_);
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    return s.ok() ? std::move(*s) : nullptr;
  }
  Json conv(const Json& body = Json::object()) {
    auto c = store_->create_conversation(body);
    EXPECT_TRUE(c.ok()) << c.status().to_string();
    return c.ok() ? *c : Json();
  }
  Json msg(const Json& c, const Json& parent, const std::string& role, const std::string& content) {
    auto m = store_->add_message(c["id"], Json{{"parent_id", parent}, {"role", role}, {"content", content}});
    EXPECT_TRUE(m.ok()) << m.status().to_string();
    return m.ok() ? *m : Json();
  }
  Json get(const Json& c) {
    auto g = store_->get_conversation(c["id"]);
    EXPECT_TRUE(g.ok()) << g.status().to_string();
    return g.ok() ? *g : Json();
  }
  std::vector<std::string> titles(const std::string& q = "") {
    std::vector<std::string> out;
    auto l = store_->list_conversations(q);
    EXPECT_TRUE(l.ok()) << l.status().to_string();
    if (l.ok())
      for (const auto& c : *l) out.push_back(c["title"]);
    return out;
  }

  std::string root_, dir_;
  std::unique_ptr<ChatStore> store_;
};

// The status is a 400 naming `param` first ("param: why").
void expect_invalid(const Status& s, const std::string& param) {
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s.to_string();
  EXPECT_EQ(s.message().substr(0, param.size() + 2), param + ": ") << s.message();
}

TEST_F(ChatStoreTest, CreatesTheDirectoryPrivately) {
  struct stat st;
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat(store_->path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(store_->path(), dir_ + "/chats.db");
}

TEST_F(ChatStoreTest, ConversationCrud) {
  const Json a = conv();
  EXPECT_EQ(a["title"], "New chat");
  EXPECT_EQ(a["settings"], Json::object());
  EXPECT_TRUE(a["current_leaf"].is_null());
  EXPECT_EQ(a["id"].get<std::string>().rfind("c_", 0), 0u);
  EXPECT_GT(a["created_at"].get<int64_t>(), 1600000000000);  // Unix milliseconds
  const Json b = conv({{"title", "Second"}, {"settings", {{"temperature", 0.6}, {"system_prompt", "Be brief."}}}});
  EXPECT_EQ(b["settings"]["system_prompt"], "Be brief.");
  EXPECT_EQ(titles(), (std::vector<std::string>{"Second", "New chat"}));  // most recently updated first

  auto renamed = store_->update_conversation(a["id"], {{"title", "Renamed"}});
  ASSERT_TRUE(renamed.ok()) << renamed.status().to_string();
  EXPECT_EQ((*renamed)["title"], "Renamed");
  EXPECT_GT((*renamed)["updated_at"].get<int64_t>(), b["updated_at"].get<int64_t>());
  EXPECT_EQ(titles(), (std::vector<std::string>{"Renamed", "Second"}));

  const Json got = get(a);
  EXPECT_EQ(got["title"], "Renamed");
  EXPECT_EQ(got["messages"], Json::array());

  msg(a, nullptr, "user", "hello");
  ASSERT_TRUE(store_->delete_conversation(a["id"]).ok());
  EXPECT_EQ(store_->get_conversation(a["id"]).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->delete_conversation(a["id"]).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->add_message(a["id"], {{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}}).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(titles(), (std::vector<std::string>{"Second"}));
  // Ids the store never made are simply unknown.
  for (const char* id : {"", "c_", "c_XYZ", "m_00", "c_0'; DROP TABLE conversations; --", "c_0123456789abcdef"})
    EXPECT_EQ(store_->get_conversation(id).status().code(), StatusCode::kNotFound) << id;
}

TEST_F(ChatStoreTest, MessageTreeAndCurrentLeaf) {
  const Json c = conv();
  const Json u = msg(c, nullptr, "user", "What is 2+2?");
  EXPECT_EQ(get(c)["current_leaf"], u["id"]);
  const Json a1 = msg(c, u["id"], "assistant", "4");
  const Json a2 = msg(c, u["id"], "assistant", "Four.");  // regenerated: a sibling
  const Json u2 = msg(c, nullptr, "user", "Edited first question");  // an edited first message: another root
  Json g = get(c);
  EXPECT_EQ(g["current_leaf"], u2["id"]);
  ASSERT_EQ(g["messages"].size(), 4u);
  EXPECT_EQ(g["messages"][0]["id"], u["id"]);  // creation order
  EXPECT_EQ(g["messages"][1]["parent_id"], u["id"]);
  EXPECT_EQ(g["messages"][2]["parent_id"], u["id"]);
  EXPECT_TRUE(g["messages"][3]["parent_id"].is_null());
  EXPECT_EQ(g["messages"][2]["content"], "Four.");
  EXPECT_EQ(g["messages"][2]["role"], "assistant");
  EXPECT_EQ(g["messages"][2]["conversation_id"], c["id"]);
  EXPECT_TRUE(g["messages"][2]["reasoning"].is_null());
  EXPECT_EQ(g["messages"][2]["attachments"], Json::array());
  EXPECT_EQ(g["messages"][2]["meta"], Json::object());

  // Browsing back to the first answer.
  auto p = store_->update_conversation(c["id"], {{"current_leaf", a1["id"]}});
  ASSERT_TRUE(p.ok()) << p.status().to_string();
  EXPECT_EQ((*p)["current_leaf"], a1["id"]);
  p = store_->update_conversation(c["id"], {{"current_leaf", nullptr}});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE((*p)["current_leaf"].is_null());

  // The assistant message written when its stream ends.
  auto e = store_->update_message(c["id"], a2["id"], {{"content", "Four!"}, {"reasoning", "2+2=4"},
                                                     {"meta", {{"completion_tokens", 3}, {"finish_reason", "stop"}}}});
  ASSERT_TRUE(e.ok()) << e.status().to_string();
  EXPECT_EQ((*e)["content"], "Four!");
  EXPECT_EQ((*e)["reasoning"], "2+2=4");
  EXPECT_EQ((*e)["meta"]["completion_tokens"], 3);
  e = store_->update_message(c["id"], a2["id"], {{"reasoning", nullptr}});  // null clears; content stays
  ASSERT_TRUE(e.ok());
  EXPECT_TRUE((*e)["reasoning"].is_null());
  EXPECT_EQ((*e)["content"], "Four!");
  EXPECT_EQ(get(c)["messages"][2]["content"], "Four!");

  auto att = store_->add_message(c["id"], {{"parent_id", a2["id"]}, {"role", "user"}, {"content", "Summarize"},
                                           {"attachments", {{{"name", "notes.md"}, {"text", "# Notes"}, {"bytes", 7}}}}});
  ASSERT_TRUE(att.ok()) << att.status().to_string();
  EXPECT_EQ((*att)["attachments"][0]["name"], "notes.md");
  EXPECT_EQ((*att)["attachments"][0]["text"], "# Notes");
}

TEST_F(ChatStoreTest, ParentAndLeafMustBelongToTheConversation) {
  const Json a = conv(), b = conv();
  const Json ma = msg(a, nullptr, "user", "in a");
  expect_invalid(store_->add_message(b["id"], {{"parent_id", ma["id"]}, {"role", "user"}, {"content", "x"}}).status(),
                 "parent_id");
  expect_invalid(store_->add_message(b["id"], {{"parent_id", "m_00000000deadbeef"}, {"role", "user"}, {"content", "x"}})
                     .status(),
                 "parent_id");
  expect_invalid(store_->update_conversation(b["id"], {{"current_leaf", ma["id"]}}).status(), "current_leaf");
  expect_invalid(store_->update_conversation(b["id"], {{"current_leaf", 5}}).status(), "current_leaf");
  EXPECT_EQ(store_->update_message(b["id"], ma["id"], {{"content", "moved?"}}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(get(b)["messages"].size(), 0u);
}

TEST_F(ChatStoreTest, ValidationNamesTheField) {
  const Json c = conv();
  auto add = [&](Json body) { return store_->add_message(c["id"], body).status(); };
  expect_invalid(add({{"role", "user"}, {"content", "x"}}), "parent_id");  // required (null for a root)
  expect_invalid(add({{"parent_id", nullptr}, {"role", "bot"}, {"content", "x"}}), "role");
  expect_invalid(add({{"parent_id", nullptr}, {"role", 1}, {"content", "x"}}), "role");
  expect_invalid(add({{"parent_id", nullptr}, {"content", "x"}}), "role");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}}), "content");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", {1, 2}}}), "content");
  expect_invalid(add({{"parent_id", 7}, {"role", "user"}, {"content", "x"}}), "parent_id");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}, {"reasoning", 3}}), "reasoning");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}, {"meta", "fast"}}), "meta");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}, {"attachments", {{{"name", "a"}}}}}),
                 "attachments[0].text");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}, {"attachments", "a.txt"}}),
                 "attachments");
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", std::string((8u << 20) + 1, 'x')}}),
                 "content");
  EXPECT_TRUE(add({{"parent_id", nullptr}, {"role", "user"}, {"content", std::string(8u << 20, 'x')}}).ok());
  Json deep = Json::object();
  for (int i = 0; i < 40; ++i) deep = Json{{"d", deep}};
  expect_invalid(add({{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}, {"meta", deep}}), "meta");
  expect_invalid(store_->update_message(c["id"], get(c)["messages"][0]["id"], {{"content", false}}).status(), "content");

  // Titles: at most 500 characters (code points, not bytes), not empty.
  std::string accents;
  for (int i = 0; i < 500; ++i) accents += "\xC3\xA9";  // é
  EXPECT_TRUE(store_->create_conversation({{"title", accents}}).ok());
  expect_invalid(store_->create_conversation({{"title", accents + "e"}}).status(), "title");
  expect_invalid(store_->create_conversation({{"title", ""}}).status(), "title");
  expect_invalid(store_->create_conversation({{"title", 12}}).status(), "title");
  expect_invalid(store_->create_conversation({{"settings", "hot"}}).status(), "settings");
  expect_invalid(store_->update_conversation(c["id"], {{"settings", Json::array()}}).status(), "settings");
  expect_invalid(store_->put_settings(Json::array()), "body");
  expect_invalid(store_->list_conversations(std::string(1001, 'q')).status(), "q");
}

TEST_F(ChatStoreTest, SearchTitlesAndContentsLiterally) {
  const Json sure = conv({{"title", "100% sure"}});
  conv({{"title", "100 percent"}});
  const Json under = conv({{"title", "snake"}});
  msg(under, nullptr, "user", "call my_func please");
  const Json other = conv({{"title", "other"}});
  msg(other, nullptr, "user", "call myXfunc please");
  const Json slash = conv({{"title", "path"}});
  msg(slash, nullptr, "assistant", "C:\\Users\\me");

  EXPECT_EQ(titles("100%"), (std::vector<std::string>{"100% sure"}));
  EXPECT_EQ(titles("100"), (std::vector<std::string>{"100 percent", "100% sure"}));
  EXPECT_EQ(titles("my_func"), (std::vector<std::string>{"snake"}));
  EXPECT_EQ(titles("MY_FUNC"), (std::vector<std::string>{"snake"}));  // case-insensitive
  EXPECT_EQ(titles("func"), (std::vector<std::string>{"other", "snake"}));
  EXPECT_EQ(titles("\\Users"), (std::vector<std::string>{"path"}));
  EXPECT_EQ(titles("%"), (std::vector<std::string>{"100% sure"}));
  EXPECT_EQ(titles("_"), (std::vector<std::string>{"snake"}));
  EXPECT_TRUE(titles("nothing like this").empty());
  EXPECT_EQ(titles("").size(), 5u);
}

// Messages of a conversation as (parent index, role, content) in order: the
// tree without its ids.
Json shape(const Json& c) {
  Json out = Json::array();
  const Json& ms = c["messages"];
  auto index_of = [&](const Json& id) -> Json {
    if (id.is_null()) return nullptr;
    for (size_t i = 0; i < ms.size(); ++i)
      if (ms[i]["id"] == id) return i;
    return "missing";
  };
  for (const auto& m : ms)
    out.push_back({index_of(m["parent_id"]), m["role"], m["content"], m["reasoning"], m["attachments"], m["meta"],
                   m["created_at"]});
  return Json{{"title", c["title"]}, {"settings", c["settings"]}, {"created_at", c["created_at"]},
              {"updated_at", c["updated_at"]}, {"leaf", index_of(c["current_leaf"])}, {"messages", out}};
}

TEST_F(ChatStoreTest, ExportImportRoundTrip) {
  const Json a = conv({{"title", "Tree"}, {"settings", {{"top_p", 0.9}}}});
  const Json u = msg(a, nullptr, "user", "hi");
  const Json r1 = msg(a, u["id"], "assistant", "hello");
  msg(a, u["id"], "assistant", "hey");
  ASSERT_TRUE(store_->update_message(a["id"], r1["id"], {{"reasoning", "greet"}, {"meta", {{"model", "tiny"}}}}).ok());
  ASSERT_TRUE(store_->update_conversation(a["id"], {{"current_leaf", r1["id"]}}).ok());
  conv({{"title", "Empty"}});
  auto exported = store_->export_conversations();
  ASSERT_TRUE(exported.ok()) << exported.status().to_string();
  EXPECT_EQ((*exported)["version"], 1);
  ASSERT_EQ((*exported)["conversations"].size(), 2u);

  auto n = store_->import_conversations(*exported);
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  EXPECT_EQ(*n, 2);
  auto again = store_->export_conversations();
  ASSERT_TRUE(again.ok());
  ASSERT_EQ((*again)["conversations"].size(), 4u);
  std::multiset<std::string> before, after;
  for (const auto& c : (*exported)["conversations"]) before.insert(shape(c).dump());
  std::set<std::string> ids;
  for (const auto& c : (*again)["conversations"]) {
    after.insert(shape(c).dump());
    ids.insert(c["id"].get<std::string>());
    for (const auto& m : c["messages"]) ids.insert(m["id"].get<std::string>());
  }
  EXPECT_EQ(ids.size(), 4u + 6u);  // copies, never overwrites: every id new
  for (const auto& s : before) EXPECT_EQ(after.count(s), 2u) << s;

  // One conversation's export is the same shape.
  auto one = store_->export_conversations(a["id"]);
  ASSERT_TRUE(one.ok());
  ASSERT_EQ((*one)["conversations"].size(), 1u);
  EXPECT_EQ(shape((*one)["conversations"][0]), shape(get(a)));
  EXPECT_EQ(store_->export_conversations("c_00000000deadbeef").status().code(), StatusCode::kNotFound);
}

TEST_F(ChatStoreTest, ImportValidatesEverythingFirst) {
  const Json good = {{"title", "ok"}, {"messages", {{{"id", "x"}, {"parent_id", nullptr}, {"role", "user"}, {"content", "a"}}}}};
  auto import = [&](const Json& convs, int version = 1) {
    return store_->import_conversations({{"version", version}, {"conversations", convs}}).status();
  };
  expect_invalid(import(Json::array({good}), 2), "version");
  expect_invalid(store_->import_conversations({{"version", 1}}).status(), "conversations");
  expect_invalid(import({good, {{"messages", {{{"id", "y"}, {"parent_id", nullptr}, {"role", "robot"}, {"content", "b"}}}}}}),
                 "conversations[1].messages[0].role");
  expect_invalid(import({{{"messages", {{{"id", "y"}, {"parent_id", "nope"}, {"role", "user"}, {"content", "b"}}}}}}),
                 "conversations[0].messages[0].parent_id");
  expect_invalid(import({{{"messages", {{{"id", "p"}, {"parent_id", "q"}, {"role", "user"}, {"content", "1"}},
                                         {{"id", "q"}, {"parent_id", "p"}, {"role", "assistant"}, {"content", "2"}}}}}}),
                 "conversations[0].messages[0].parent_id");  // a cycle
  expect_invalid(import({{{"messages", {{{"id", "p"}, {"parent_id", nullptr}, {"role", "user"}, {"content", "1"}},
                                         {{"id", "p"}, {"parent_id", nullptr}, {"role", "user"}, {"content", "2"}}}}}}),
                 "conversations[0].messages[1].id");
  expect_invalid(import({{{"current_leaf", "z"}, {"messages", Json::array()}}}), "conversations[0].current_leaf");
  expect_invalid(import({{{"title", std::string(501, 't')}}}), "conversations[0].title");
  EXPECT_TRUE(titles().empty());  // nothing of a refused import was kept

  // A child listed before its parent is fine; creation order is kept.
  auto n = store_->import_conversations(
      {{"version", 1},
       {"conversations", {{{"current_leaf", "child"},
                           {"messages", {{{"id", "child"}, {"parent_id", "root"}, {"role", "assistant"}, {"content", "2"}},
                                         {{"id", "root"}, {"parent_id", nullptr}, {"role", "user"}, {"content", "1"}}}}}}}});
  ASSERT_TRUE(n.ok()) << n.status().to_string();
  auto list = store_->list_conversations();
  ASSERT_TRUE(list.ok());
  const Json c = get((*list)[0]);
  EXPECT_EQ(c["title"], "New chat");
  ASSERT_EQ(c["messages"].size(), 2u);
  EXPECT_EQ(c["messages"][0]["content"], "2");
  EXPECT_EQ(c["messages"][0]["parent_id"], c["messages"][1]["id"]);
  EXPECT_EQ(c["current_leaf"], c["messages"][0]["id"]);
}

TEST_F(ChatStoreTest, SurvivesReopen) {
  const Json c = conv({{"title", "Keep me"}});
  const Json u = msg(c, nullptr, "user", "remember this");
  ASSERT_TRUE(store_->put_settings({{"temperature", 0.6}, {"show_reasoning", true}}).ok());
  const Json before = get(c);
  store_.reset();
  store_ = open_store();
  ASSERT_NE(store_, nullptr);
  EXPECT_EQ(get(c), before);
  auto s = store_->settings();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (Json{{"temperature", 0.6}, {"show_reasoning", true}}));
  EXPECT_EQ(titles(), (std::vector<std::string>{"Keep me"}));
}

TEST_F(ChatStoreTest, GlobalSettings) {
  auto s = store_->settings();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, Json::object());
  ASSERT_TRUE(store_->put_settings({{"a", 1}, {"b", 2}}).ok());
  ASSERT_TRUE(store_->put_settings({{"b", 3}}).ok());  // replaces, does not merge
  s = store_->settings();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(*s, (Json{{"b", 3}}));
}

TEST_F(ChatStoreTest, ConcurrentWritersLoseNothing) {
  const Json c = conv();
  // Two threads on this store, and another store on the same file (another
  // process would do the same: WAL, busy timeout, BEGIN IMMEDIATE).
  std::unique_ptr<ChatStore> second = open_store();
  ASSERT_NE(second, nullptr);
  constexpr int kEach = 60;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      ChatStore& s = t == 2 ? *second : *store_;
      for (int i = 0; i < kEach; ++i) {
        auto m = s.add_message(c["id"], {{"parent_id", nullptr}, {"role", "user"},
                                         {"content", "t" + std::to_string(t) + "-" + std::to_string(i)}});
        if (!m.ok()) failures.fetch_add(1);
        if (i % 10 == 0 && !s.update_conversation(c["id"], {{"title", "t" + std::to_string(t)}}).ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  const Json g = get(c);
  ASSERT_EQ(g["messages"].size(), 3u * kEach);
  std::set<std::string> contents, ids;
  for (const auto& m : g["messages"]) {
    contents.insert(m["content"].get<std::string>());
    ids.insert(m["id"].get<std::string>());
  }
  EXPECT_EQ(contents.size(), 3u * kEach);
  EXPECT_EQ(ids.size(), 3u * kEach);
  // Each thread's own messages are in the order it wrote them.
  for (int t = 0; t < 3; ++t) {
    int next = 0;
    for (const auto& m : g["messages"]) {
      const std::string s = m["content"];
      if (s.rfind("t" + std::to_string(t) + "-", 0) == 0) {
        EXPECT_EQ(s, "t" + std::to_string(t) + "-" + std::to_string(next));
        ++next;
      }
    }
  }
}

TEST_F(ChatStoreTest, CorruptFileIsAClearError) {
  store_.reset();
  std::filesystem::remove(dir_ + "/chats.db-wal");
  std::filesystem::remove(dir_ + "/chats.db-shm");
  {
    std::ofstream f(dir_ + "/chats.db", std::ios::binary | std::ios::trunc);
    for (int i = 0; i < 200; ++i) f << "this is not an SQLite database, just some text. ";
  }
  auto s = ChatStore::open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kCorrupt) << s.status().to_string();
  EXPECT_NE(s.status().message().find(dir_ + "/chats.db"), std::string::npos) << s.status().message();
  EXPECT_NE(s.status().message().find("not a database"), std::string::npos) << s.status().message();
}

TEST_F(ChatStoreTest, NewerSchemaIsRefused) {
  store_.reset();
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/chats.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto s = ChatStore::open(dir_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("newer ember"), std::string::npos) << s.status().message();
}

TEST_F(ChatStoreTest, DataDirThatIsAFile) {
  const std::string file = root_ + "/plain-file";
  std::ofstream(file) << "x";
  auto s = ChatStore::open(file);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find(file), std::string::npos) << s.status().message();
  EXPECT_FALSE(ChatStore::open("").ok());
}

}  // namespace
}  // namespace ember::server
