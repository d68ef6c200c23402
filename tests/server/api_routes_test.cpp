// The web UI's side of the server over HTTP: the chat store under /api/,
// file uploads (text, PDF through poppler), and the static UI files — on a
// real Server (tiny-r1vocab engine) with an API key and a temporary data
// directory, plus serve_ui on a bare httplib server with assets made here.
#include <httplib.h>
#include <stdlib.h>
#include <zlib.h>

#include <filesystem>
#include <set>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "base/mapped_file.h"
#include "engine/async_engine.h"
#include "engine/model_defaults.h"
#include "engine/tokenizer_loader.h"
#include "server/file_text.h"
#include "server/metrics.h"
#include "server/server.h"
#include "server/web_routes.h"

#if __has_include("webui/assets.h")
#include "webui/assets.h"
#define EMBER_TEST_HAVE_WEBUI 1
#else
namespace ember::webui {
struct Asset {
  std::string_view path, content_type, gzip, etag;
  bool immutable;
};
}  // namespace ember::webui
#endif

namespace ember::server {
namespace {

using Json = nlohmann::ordered_json;

const std::string kModelDir = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/hf";
const std::string kKey = "api-test-key";

struct Reply {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  Json json() const { return Json::parse(body, nullptr, false); }
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

Reply to_reply(const httplib::Result& r) {
  Reply out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  out.headers = r->headers;
  return out;
}

// `raw`: the body as sent (no gzip decoding), for the static files' tests.
Reply call(int port, const std::string& method, const std::string& path, const std::string& body = "",
           httplib::Headers headers = {}, bool auth = true, bool raw = false) {
  httplib::Client cli("127.0.0.1", port);
  cli.set_decompress(!raw);
  cli.set_read_timeout(60, 0);
  httplib::Request req;
  req.method = method;
  req.path = path;
  req.headers = std::move(headers);
  if (auth) req.headers.emplace("Authorization", "Bearer " + kKey);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.body = body;
    req.headers.emplace("Content-Type", "application/json");
  }
  return to_reply(cli.send(req));
}

std::string gzip_bytes(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::string out(deflateBound(&z, in.size()) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

std::string gunzip_bytes(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  std::string out;
  char buf[4096];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  EXPECT_EQ(rc, Z_STREAM_END);
  inflateEnd(&z);
  return out;
}

// A one-page PDF showing `text` in Helvetica, written by hand: objects,
// then an xref table with each object's byte offset.
std::string tiny_pdf(const std::string& text) {
  const std::string stream = "BT /F1 24 Tf 36 96 Td (" + text + ") Tj ET\n";
  const std::vector<std::string> objects = {
      "<< /Type /Catalog /Pages 2 0 R >>",
      "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
      "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 400 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
      "<< /Length " + std::to_string(stream.size()) + " >>\nstream\n" + stream + "endstream",
      "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
  };
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  const size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof(entry), "%010zu 00000 n \n", off);
    pdf += entry;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

class ApiRoutesTest : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    if (!file_exists(kModelDir + "/config.json")) return;
    std::string tmpl = (std::filesystem::temp_directory_path() / "ember-api-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    engine::EngineConfig c;
    c.model = kModelDir;
    c.threads = 1;
    c.kv_cache_memory = 16 << 20;
    c.max_model_len = 256;
    auto engine = engine::AsyncEngine::create(c);
    ASSERT_TRUE(engine.ok()) << engine.status().to_string();
    engine_ = std::move(*engine);
    server_ = start(root_ + "/data", &listener_);
  }
  static void TearDownTestSuite() {
    stop(server_, listener_);
    engine_.reset();
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "fixture model missing or server failed to start";
  }

  // A server with an API key, the UI on and its chat store in `data_dir`.
  static std::unique_ptr<Server> start(const std::string& data_dir, std::thread* listener) {
    auto mt = engine::load_model_tokenizer(kModelDir);
    EXPECT_TRUE(mt.ok()) << mt.status().to_string();
    if (!mt.ok()) return nullptr;
    ServerOptions o;
    o.port = 0;
    o.served_model_name = "tiny-r1";
    o.api_key = kKey;
    o.http_threads = 16;
    o.data_dir = data_dir;
    o.ui_enabled = true;
    auto s = Server::create(o, *engine_, *mt, engine::generation_defaults(engine_->model()));
    EXPECT_TRUE(s.ok()) << s.status().to_string();
    if (!s.ok() || !(*s)->bind().ok()) return nullptr;
    Server* raw = s->get();
    *listener = std::thread([raw] { (void)raw->listen(); });
    return std::move(*s);
  }
  static void stop(std::unique_ptr<Server>& s, std::thread& listener) {
    if (!s) return;
    s->shutdown();
    listener.join();
    s.reset();
  }

  static Reply get(const std::string& path, bool auth = true) { return call(server_->port(), "GET", path, "", {}, auth); }
  static Reply send(const std::string& method, const std::string& path, const Json& body) {
    return call(server_->port(), method, path, body.dump());
  }
  static Json created(const std::string& path, const Json& body) {
    Reply r = send("POST", path, body);
    EXPECT_EQ(r.status, 201) << path << " " << r.body;
    return r.json();
  }
  // A 4xx in the store's error shape naming `param` (null: none).
  static void expect_error(const Reply& r, int status, const Json& param) {
    EXPECT_EQ(r.status, status) << r.body;
    const Json j = r.json();
    ASSERT_TRUE(j.contains("error")) << r.body;
    EXPECT_TRUE(j["error"]["message"].is_string()) << r.body;
    EXPECT_EQ(j["error"]["type"], status == 404 ? "not_found_error" : "invalid_request_error") << r.body;
    EXPECT_EQ(j["error"]["param"], param) << r.body;
    EXPECT_TRUE(j["error"]["code"].is_null()) << r.body;
    EXPECT_EQ(r.header("Content-Type"), "application/json");
  }
  static Reply upload(const httplib::MultipartFormDataItems& items) {
    httplib::Client cli("127.0.0.1", server_->port());
    return to_reply(cli.Post("/api/files", httplib::Headers{{"Authorization", "Bearer " + kKey}}, items));
  }

  static std::string root_;
  static std::unique_ptr<engine::AsyncEngine> engine_;
  static std::unique_ptr<Server> server_;
  static std::thread listener_;
};

std::string ApiRoutesTest::root_;
std::unique_ptr<engine::AsyncEngine> ApiRoutesTest::engine_;
std::unique_ptr<Server> ApiRoutesTest::server_;
std::thread ApiRoutesTest::listener_;

TEST_F(ApiRoutesTest, NeedsTheApiKey) {
  EXPECT_EQ(get("/api/conversations", false).status, 401);
  EXPECT_EQ(call(server_->port(), "POST", "/api/conversations", "{}", {}, false).status, 401);
  EXPECT_EQ(call(server_->port(), "POST", "/api/files", "", {}, false).status, 401);
  EXPECT_EQ(get("/api/settings", false).status, 401);
  EXPECT_EQ(get("/api/conversations").status, 200);
  // The UI's files need none (a missing one is a 404, not a 401).
  EXPECT_NE(get("/", false).status, 401);
  EXPECT_EQ(get("/assets/no-such-file.js", false).status, 404);
  EXPECT_EQ(get("/v1/models", false).status, 401);  // the API still does
  EXPECT_EQ(get("/metrics", false).status, 401);
}

TEST_F(ApiRoutesTest, ConversationsAndMessages) {
  const Json c = created("/api/conversations", {{"settings", {{"temperature", 0.6}}}});
  ASSERT_TRUE(c["id"].is_string());
  EXPECT_EQ(c["title"], "New chat");
  const std::string base = "/api/conversations/" + c["id"].get<std::string>();
  const Json u = created(base + "/messages", {{"parent_id", nullptr}, {"role", "user"}, {"content", "Hi there"}});
  const Json a = created(base + "/messages", {{"parent_id", u["id"]}, {"role", "assistant"}, {"content", ""}});
  Reply p = send("PATCH", base + "/messages/" + a["id"].get<std::string>(),
                 {{"content", "Hello!"}, {"reasoning", "greet back"}, {"meta", {{"finish_reason", "stop"}}}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json()["content"], "Hello!");
  p = send("PATCH", base, {{"title", "Greetings"}});
  ASSERT_EQ(p.status, 200) << p.body;
  EXPECT_EQ(p.json()["title"], "Greetings");
  EXPECT_EQ(p.json()["current_leaf"], a["id"]);

  Reply g = get(base);
  ASSERT_EQ(g.status, 200) << g.body;
  const Json full = g.json();
  EXPECT_EQ(full["settings"]["temperature"], 0.6);
  ASSERT_EQ(full["messages"].size(), 2u);
  EXPECT_EQ(full["messages"][1]["reasoning"], "greet back");
  EXPECT_EQ(full["messages"][1]["parent_id"], u["id"]);

  Reply list = get("/api/conversations");
  ASSERT_EQ(list.status, 200);
  EXPECT_EQ(list.json()["conversations"][0]["id"], c["id"]);
  EXPECT_FALSE(list.json()["conversations"][0].contains("messages"));

  Reply d = call(server_->port(), "DELETE", base);
  EXPECT_EQ(d.status, 204) << d.body;
  EXPECT_TRUE(d.body.empty());
  expect_error(get(base), 404, nullptr);
  expect_error(call(server_->port(), "DELETE", base), 404, nullptr);
  expect_error(send("POST", base + "/messages", {{"parent_id", nullptr}, {"role", "user"}, {"content", "x"}}), 404,
               nullptr);
  expect_error(get("/api/nothing-here"), 404, nullptr);
  expect_error(send("PUT", "/api/conversations", Json::object()), 404, nullptr);
}

TEST_F(ApiRoutesTest, ValidationErrorsNameTheField) {
  const Json c = created("/api/conversations", Json::object());
  const std::string base = "/api/conversations/" + c["id"].get<std::string>();
  expect_error(send("POST", base + "/messages", {{"parent_id", nullptr}, {"role", "robot"}, {"content", "x"}}), 400, "role");
  expect_error(send("POST", base + "/messages", {{"parent_id", nullptr}, {"role", "user"}}), 400, "content");
  expect_error(send("POST", base + "/messages", {{"role", "user"}, {"content", "x"}}), 400, "parent_id");
  expect_error(send("POST", "/api/conversations", {{"title", std::string(501, 'x')}}), 400, "title");
  expect_error(send("PATCH", base, {{"settings", 3}}), 400, "settings");
  expect_error(send("PATCH", base, {{"current_leaf", "m_0123456789abcdef"}}), 400, "current_leaf");
  expect_error(call(server_->port(), "POST", "/api/conversations", "{not json"), 400, nullptr);
  expect_error(call(server_->port(), "POST", "/api/conversations", "[1, 2]"), 400, nullptr);
  expect_error(call(server_->port(), "PUT", "/api/settings", "\"x\""), 400, nullptr);
  expect_error(send("POST", "/api/import", {{"version", 1}, {"conversations", {{{"messages", {{{"id", "a"}, {"role", "user"}, {"content", 5}}}}}}}}),
               400, "conversations[0].messages[0].content");
  // Another conversation's message is no parent here.
  const Json other = created("/api/conversations", Json::object());
  const Json m = created("/api/conversations/" + other["id"].get<std::string>() + "/messages",
                         {{"parent_id", nullptr}, {"role", "user"}, {"content", "elsewhere"}});
  expect_error(send("POST", base + "/messages", {{"parent_id", m["id"]}, {"role", "assistant"}, {"content", "x"}}), 400,
               "parent_id");
}

TEST_F(ApiRoutesTest, SearchEscapesLikeWildcards) {
  const Json a = created("/api/conversations", {{"title", "discount 50% off"}});
  const Json b = created("/api/conversations", {{"title", "discount 50 pounds"}});
  created("/api/conversations/" + b["id"].get<std::string>() + "/messages",
          {{"parent_id", nullptr}, {"role", "user"}, {"content", "rename snake_case_name"}});
  auto ids = [](const Reply& r) {
    std::vector<std::string> out;
    const Json j = r.json();
    for (const auto& c : j["conversations"]) out.push_back(c["id"]);
    return out;
  };
  EXPECT_EQ(ids(get("/api/conversations?q=50%25")), (std::vector<std::string>{a["id"]}));
  EXPECT_EQ(ids(get("/api/conversations?q=DISCOUNT%2050")), (std::vector<std::string>{b["id"], a["id"]}));
  EXPECT_EQ(ids(get("/api/conversations?q=snake_case")), (std::vector<std::string>{b["id"]}));
  EXPECT_TRUE(ids(get("/api/conversations?q=snake%5Fcasx")).empty());
  expect_error(get("/api/conversations?q=" + std::string(1001, 'q')), 400, "q");
}

TEST_F(ApiRoutesTest, ExportImportRoundTrip) {
  const Json c = created("/api/conversations", {{"title", "Exported"}, {"settings", {{"max_tokens", 64}}}});
  const std::string base = "/api/conversations/" + c["id"].get<std::string>();
  const Json u = created(base + "/messages", {{"parent_id", nullptr}, {"role", "user"}, {"content", "q"},
                                              {"attachments", {{{"name", "a.csv"}, {"text", "x,y\n1,2\n"}}}}});
  created(base + "/messages", {{"parent_id", u["id"]}, {"role", "assistant"}, {"content", "first"}});
  created(base + "/messages", {{"parent_id", u["id"]}, {"role", "assistant"}, {"content", "second"}, {"meta", {{"model", "tiny-r1"}}}});
  Reply e = get(base + "/export");
  ASSERT_EQ(e.status, 200) << e.body;
  const Json exported = e.json();
  EXPECT_EQ(exported["version"], 1);
  ASSERT_EQ(exported["conversations"].size(), 1u);

  Reply i = send("POST", "/api/import", exported);
  ASSERT_EQ(i.status, 200) << i.body;
  EXPECT_EQ(i.json()["imported"], 1);
  Reply all = get("/api/export");
  ASSERT_EQ(all.status, 200);
  // The copy: same tree, new ids.
  const Json orig = exported["conversations"][0];
  Json copy;
  const Json everything = all.json();
  for (const auto& x : everything["conversations"])
    if (x["title"] == "Exported" && x["id"] != orig["id"]) copy = x;
  ASSERT_FALSE(copy.is_null());
  ASSERT_EQ(copy["messages"].size(), orig["messages"].size());
  EXPECT_EQ(copy["settings"], orig["settings"]);
  std::map<std::string, std::string> remap;  // new id -> old id, in order
  for (size_t k = 0; k < orig["messages"].size(); ++k) {
    const Json& o = orig["messages"][k];
    const Json& n = copy["messages"][k];
    EXPECT_NE(n["id"], o["id"]);
    EXPECT_EQ(n["conversation_id"], copy["id"]);
    remap[n["id"]] = o["id"];
    for (const char* f : {"role", "content", "reasoning", "attachments", "meta", "created_at"}) EXPECT_EQ(n[f], o[f]) << f;
    if (o["parent_id"].is_null()) {
      EXPECT_TRUE(n["parent_id"].is_null());
    } else {
      EXPECT_EQ(remap[n["parent_id"]], o["parent_id"]);
    }
  }
  EXPECT_EQ(remap[copy["current_leaf"]], orig["current_leaf"]);
}

TEST_F(ApiRoutesTest, SettingsAndRestart) {
  Reply s = get("/api/settings");
  ASSERT_EQ(s.status, 200);
  EXPECT_TRUE(s.json().is_object());
  Reply put = send("PUT", "/api/settings", {{"system_prompt", "You are terse."}, {"temperature", 0.6}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(put.json()["system_prompt"], "You are terse.");
  const Json c = created("/api/conversations", {{"title", "Persisted"}});

  // Another server on the same data directory (a restart, or a second
  // process) sees everything.
  std::thread listener2;
  std::unique_ptr<Server> second = start(root_ + "/data", &listener2);
  ASSERT_NE(second, nullptr);
  Reply g = call(second->port(), "GET", "/api/conversations/" + c["id"].get<std::string>());
  EXPECT_EQ(g.status, 200) << g.body;
  EXPECT_EQ(g.json()["title"], "Persisted");
  EXPECT_EQ(call(second->port(), "GET", "/api/settings").json()["system_prompt"], "You are terse.");

  // Two "tabs", one on each server, append to one conversation at once.
  const std::string path = "/api/conversations/" + c["id"].get<std::string>() + "/messages";
  constexpr int kEach = 25;
  std::atomic<int> ok{0};
  auto tab = [&](int port, const std::string& name) {
    for (int i = 0; i < kEach; ++i) {
      Reply r = call(port, "POST", path, Json{{"parent_id", nullptr}, {"role", "user"}, {"content", name + std::to_string(i)}}.dump());
      if (r.status == 201) ok.fetch_add(1);
    }
  };
  std::thread t1(tab, server_->port(), "a"), t2(tab, second->port(), "b");
  t1.join();
  t2.join();
  EXPECT_EQ(ok.load(), 2 * kEach);
  stop(second, listener2);
  Reply after = get("/api/conversations/" + c["id"].get<std::string>());
  std::set<std::string> contents;
  const Json stored = after.json();
  for (const auto& m : stored["messages"]) contents.insert(m["content"].get<std::string>());
  EXPECT_EQ(contents.size(), 2u * kEach);
}

TEST_F(ApiRoutesTest, FileUploads) {
  const std::string md = "# Notes\n\nUnicode: caf\xC3\xA9 \xE2\x9C\x93\n";
  Reply r = upload({{"file", md, "notes.md", "text/markdown"}, {"file", "a,b\n1,2\n", "table.csv", "text/csv"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const Json files = r.json()["files"];
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0], (Json{{"name", "notes.md"}, {"text", md}, {"bytes", md.size()}, {"type", "text"}}));
  EXPECT_EQ(files[1]["name"], "table.csv");
  EXPECT_EQ(files[1]["text"], "a,b\n1,2\n");

  const std::string pdf = tiny_pdf("Hello from a PDF");
  r = upload({{"file", pdf, "paper.pdf", "application/pdf"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["files"][0]["type"], "pdf");
  EXPECT_EQ(r.json()["files"][0]["bytes"], pdf.size());
  EXPECT_NE(r.json()["files"][0]["text"].get<std::string>().find("Hello from a PDF"), std::string::npos) << r.body;

  expect_error(upload({{"file", "caf\xE9 au lait\n", "latin1.txt", "text/plain"}}), 400, "file");
  expect_error(upload({{"file", std::string("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16), "x.png", "image/png"}}), 415, "file");
  expect_error(upload({{"file", std::string("\x01\x02\0\x03 bytes", 10), "blob.bin", "application/octet-stream"}}), 415,
               "file");
  expect_error(upload({{"file", pdf.substr(0, 40), "cut.pdf", "application/pdf"}}), 400, "file");
  expect_error(upload({{"other", "x", "x.txt", "text/plain"}}), 400, "file");
  expect_error(call(server_->port(), "POST", "/api/files", "{}"), 400, "file");
}

TEST(FileText, TextRules) {
  auto t = extract_file_text("a.py", "", "\xEF\xBB\xBFprint('hi')\n");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->text, "print('hi')\n");  // the BOM dropped
  EXPECT_EQ(t->type, "text");
  EXPECT_TRUE(extract_file_text("empty.txt", "", "").ok());
  EXPECT_EQ(extract_file_text("u16.txt", "", std::string("\xFF\xFEh\0i\0", 6)).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(extract_file_text("x.txt", "", "\xC0\xAF").status().code(), StatusCode::kInvalidArgument);  // overlong
  EXPECT_EQ(extract_file_text("x.txt", "", "\xED\xA0\x80").status().code(), StatusCode::kInvalidArgument);  // surrogate
  EXPECT_EQ(extract_file_text("x.zip", "", "PK\x03\x04rest").status().code(), StatusCode::kUnsupported);
  // Text that merely mentions a PDF header is still text.
  t = extract_file_text("notes.md", "", "A PDF starts with %PDF-1.7\n");
  ASSERT_TRUE(t.ok()) << t.status().to_string();
  EXPECT_EQ(t->type, "text");
  EXPECT_TRUE(valid_utf8("\xF0\x9F\x98\x80"));
  EXPECT_FALSE(valid_utf8("\xF4\x90\x80\x80"));  // past U+10FFFF
}

// serve_ui over assets made here, on a bare httplib server.
class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    index_ = "<!doctype html><title>ember</title><script src=\"/assets/app-1a2b3c.js\"></script>";
    js_ = std::string(5000, ' ') + "console.log('ember');";
    index_gz_ = gzip_bytes(index_);
    js_gz_ = gzip_bytes(js_);
    assets_ = {{"/index.html", "text/html; charset=utf-8", index_gz_, "\"idx-1\"", false},
               {"/assets/app-1a2b3c.js", "text/javascript; charset=utf-8", js_gz_, "\"js-1a2b3c\"", true}};
    http_.Get(".*", [this](const httplib::Request& req, httplib::Response& res) {
      serve_ui(req, res, [this](std::string_view path) -> const webui::Asset* {
        for (const auto& a : assets_)
          if (a.path == path) return &a;
        return nullptr;
      });
    });
    port_ = http_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { http_.listen_after_bind(); });
  }
  void TearDown() override {
    http_.stop();
    if (thread_.joinable()) thread_.join();
  }
  Reply fetch(const std::string& path, httplib::Headers h = {}) {
    return call(port_, "GET", path, "", std::move(h), false, /*raw=*/true);
  }

  std::string index_, js_, index_gz_, js_gz_;
  std::vector<webui::Asset> assets_;
  httplib::Server http_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(StaticFilesTest, ContentTypesAndCaching) {
  Reply r = fetch("/assets/app-1a2b3c.js", {{"Accept-Encoding", "identity"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, js_);
  EXPECT_EQ(r.header("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(r.header("Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(r.header("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(r.header("ETag"), "\"js-1a2b3c\"");
  EXPECT_EQ(r.header("Content-Encoding"), "");

  r = fetch("/", {{"Accept-Encoding", "identity"}});
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.body, index_);
  EXPECT_EQ(r.header("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(r.header("Cache-Control"), "no-cache");
}

TEST_F(StaticFilesTest, GzipOrIdentity) {
  for (const char* accept : {"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.5", "*"}) {
    Reply r = fetch("/assets/app-1a2b3c.js", {{"Accept-Encoding", accept}});
    ASSERT_EQ(r.status, 200) << accept;
    EXPECT_EQ(r.header("Content-Encoding"), "gzip") << accept;
    EXPECT_EQ(r.body, js_gz_) << accept;  // the stored bytes, not encoded again
    EXPECT_EQ(gunzip_bytes(r.body), js_) << accept;
  }
  for (const char* accept : {"identity", "", "gzip;q=0", "br", "*;q=0", "gzip;q=0.000, deflate"}) {
    Reply r = fetch("/assets/app-1a2b3c.js", {{"Accept-Encoding", accept}});
    ASSERT_EQ(r.status, 200) << accept;
    EXPECT_NE(r.header("Content-Encoding"), "gzip") << accept;
    if (r.header("Content-Encoding").empty()) {
      EXPECT_EQ(r.body, js_) << accept;
    }
  }
  EXPECT_TRUE(accepts_gzip("deflate, GZIP"));
  EXPECT_FALSE(accepts_gzip("gzip;q=0, *"));
  EXPECT_TRUE(accepts_gzip("*;q=0.1"));
}

TEST_F(StaticFilesTest, ConditionalRequests) {
  Reply r = fetch("/assets/app-1a2b3c.js", {{"If-None-Match", "\"js-1a2b3c\""}});
  EXPECT_EQ(r.status, 304);
  EXPECT_TRUE(r.body.empty());
  EXPECT_EQ(r.header("ETag"), "\"js-1a2b3c\"");
  EXPECT_EQ(fetch("/assets/app-1a2b3c.js", {{"If-None-Match", "\"old\", W/\"js-1a2b3c\""}}).status, 304);
  EXPECT_EQ(fetch("/", {{"If-None-Match", "\"idx-1\""}}).status, 304);
  EXPECT_EQ(fetch("/", {{"If-None-Match", "\"idx-0\""}}).status, 200);
}

TEST_F(StaticFilesTest, SpaFallbackAndMissingFiles) {
  for (const char* route : {"/c/c_0123456789abcdef", "/settings", "/index.html"}) {
    Reply r = fetch(route, {{"Accept-Encoding", "identity"}});
    EXPECT_EQ(r.status, 200) << route;
    EXPECT_EQ(r.body, index_) << route;
    EXPECT_EQ(r.header("Cache-Control"), "no-cache") << route;
  }
  EXPECT_EQ(fetch("/assets/x.js").status, 404);
  EXPECT_EQ(fetch("/favicon.ico").status, 404);
  EXPECT_TRUE(is_ui_path("/"));
  EXPECT_TRUE(is_ui_path("/assets/a.js"));
  for (const char* p : {"/v1/models", "/api/conversations", "/api", "/metrics", "/health", "/version", "/tokenize",
                        "/detokenize", "/generate"})
    EXPECT_FALSE(is_ui_path(p)) << p;
}

#ifdef EMBER_TEST_HAVE_WEBUI
// The real embedded UI through the server: index.html at /, each asset with
// its type and caching, no API key needed.
// A body over the limit (httplib's own 413): JSON in the store's shape
// under /api/, in the /v1 one elsewhere, both saying what the limit is.
TEST_F(ApiRoutesTest, BodyOverTheLimitIsAJson413) {
  ASSERT_EQ(server_->options().max_body_bytes, 32u << 20);
  const std::string big((32u << 20) + 1, 'a');
  Reply r = call(server_->port(), "POST", "/api/conversations", big);
  expect_error(r, 413, nullptr);
  EXPECT_EQ(r.json()["error"]["message"], "The request body is larger than the server's limit of 32 MiB.") << r.body;
  r = call(server_->port(), "POST", "/v1/chat/completions", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.header("Content-Type"), "application/json");
  EXPECT_EQ(r.json()["error"]["message"], "The request body is larger than the server's limit of 32 MiB.") << r.body;
  EXPECT_EQ(r.json()["error"]["type"], "BadRequestError") << r.body;
  EXPECT_EQ(r.json()["error"]["code"], 413) << r.body;
}

TEST(HttpRouteLabel, RoutePatternsWithoutIds) {
  const std::pair<const char*, const char*> cases[] = {
      {"/v1/chat/completions", "/v1/chat/completions"},
      {"/metrics", "/metrics"},
      {"/api/conversations", "/api/conversations"},
      {"/api/conversations/c_1f", "/api/conversations/{id}"},
      {"/api/conversations/c_1f/messages", "/api/conversations/{id}/messages"},
      {"/api/conversations/c_1f/messages/m_2a", "/api/conversations/{id}/messages/{id}"},
      {"/api/conversations/c_1f/export", "/api/conversations/{id}/export"},
      {"/api/export", "/api/export"},
      {"/api/import", "/api/import"},
      {"/api/settings", "/api/settings"},
      {"/api/files", "/api/files"},
      // Not a route: bounded, whatever a client sends.
      {"/api/conversations/", "other"},
      {"/api/conversations//messages", "other"},
      {"/api/conversations/c_1/messages/m_2/x", "other"},
      {"/api/conversations/c_1/nope", "other"},
      {"/api/nope", "other"},
      {"/v1/nope", "other"},
      // The UI's pages and files.
      {"/", "/ui"},
      {"/assets/index-3f2a.js", "/ui"},
      {"/chat/c_1f", "/ui"},
  };
  for (const auto& [path, label] : cases) EXPECT_EQ(http_route_label(path, true), label) << path;
  EXPECT_EQ(http_route_label("/", false), "other");  // --no-ui: a 404
  EXPECT_EQ(http_route_label("/assets/a.js", false), "other");
  EXPECT_EQ(http_route_label("/api/conversations/c_1f", false), "/api/conversations/{id}");
}

// /metrics counts /api/ and UI requests under those labels (no ids).
// The sum of http_requests_total's samples with handler="other".
double other_requests(const std::string& metrics) {
  double sum = 0;
  const std::string key = "http_requests_total{handler=\"other\"";
  for (size_t at = metrics.find(key); at != std::string::npos; at = metrics.find(key, at + 1)) {
    const size_t space = metrics.find(' ', metrics.find('}', at));
    sum += std::stod(metrics.substr(space + 1));
  }
  return sum;
}

TEST_F(ApiRoutesTest, HttpCountersLabelTheRoutes) {
  const double others_before = other_requests(get("/metrics").body);
  const Json c = created("/api/conversations", Json::object());
  const std::string base = "/api/conversations/" + c["id"].get<std::string>();
  const Json m = created(base + "/messages", {{"parent_id", nullptr}, {"role", "user"}, {"content", "Hi"}});
  ASSERT_EQ(send("PATCH", base + "/messages/" + m["id"].get<std::string>(), {{"content", "Hey"}}).status, 200);
  ASSERT_EQ(get(base).status, 200);
  ASSERT_EQ(get(base + "/export").status, 200);
  ASSERT_EQ(get("/", false).status, 200);
  ASSERT_EQ(get("/assets/no-such-file.js", false).status, 404);
  const std::pair<const char*, const char*> expected[] = {
      {"/api/conversations", "POST\",status=\"2xx"},
      {"/api/conversations/{id}/messages", "POST\",status=\"2xx"},
      {"/api/conversations/{id}/messages/{id}", "PATCH\",status=\"2xx"},
      {"/api/conversations/{id}", "GET\",status=\"2xx"},
      {"/api/conversations/{id}/export", "GET\",status=\"2xx"},
      {"/ui", "GET\",status=\"2xx"},
      {"/ui", "GET\",status=\"4xx"},
  };
  // Each counter is taken as its response is logged, which can be just
  // after the client read it: wait for all of them (bounded).
  std::string text;
  bool all = false;
  for (int i = 0; i < 200 && !all; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    text = get("/metrics").body;
    all = true;
    for (const auto& [route, rest] : expected)
      all = all && text.find(std::string("http_requests_total{handler=\"") + route + "\",method=\"" + rest + "\"}") !=
                       std::string::npos;
  }
  EXPECT_TRUE(all) << text;
  EXPECT_EQ(other_requests(text), others_before) << text;
  EXPECT_EQ(text.find(c["id"].get<std::string>()), std::string::npos) << "an id in a label";
}

TEST_F(ApiRoutesTest, EmbeddedUi) {
  const webui::Asset* index = webui::find_asset("/index.html");
  ASSERT_NE(index, nullptr);
  Reply r = call(server_->port(), "GET", "/", "", {{"Accept-Encoding", "identity"}}, false);
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.header("Content-Type").rfind("text/html", 0), 0u);
  EXPECT_EQ(r.header("Cache-Control"), "no-cache");
  EXPECT_NE(r.body.find("<"), std::string::npos);
  EXPECT_EQ(call(server_->port(), "GET", "/some/route", "", {{"Accept-Encoding", "identity"}}, false).body, r.body);
  for (const auto& a : webui::all_assets()) {
    Reply g = call(server_->port(), "GET", std::string(a.path), "", {{"Accept-Encoding", "gzip"}}, false, true);
    EXPECT_EQ(g.status, 200) << a.path;
    EXPECT_EQ(g.header("Content-Type"), a.content_type) << a.path;
    EXPECT_EQ(g.header("Cache-Control"), a.immutable ? "public, max-age=31536000, immutable" : "no-cache") << a.path;
    if (g.header("Content-Encoding") == "gzip") {
      EXPECT_EQ(g.body, std::string(a.gzip)) << a.path;
    }
    EXPECT_EQ(call(server_->port(), "GET", std::string(a.path), "", {{"If-None-Match", g.header("ETag")}}, false).status, 304)
        << a.path;
  }
  EXPECT_EQ(get("/assets/missing-0000.js", false).status, 404);
}
#endif

}  // namespace
}  // namespace ember::server
