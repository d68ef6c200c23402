#include "server_fixture.h"

#include <cstdlib>

#include "base/mapped_file.h"
#include "chat/chat_template.h"
#include "engine/model_defaults.h"

namespace ember::server::testing {

std::unique_ptr<engine::AsyncEngine> ServerTest::engine_;
std::unique_ptr<Server> ServerTest::server_;
engine::ModelTokenizer ServerTest::tokenizer_;
std::thread ServerTest::listener_;

SseEvents parse_sse(const std::string& body) {
  SseEvents out;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) {
      out.framing_ok = false;
      break;
    }
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    if (event.rfind("data: ", 0) != 0 || event.find('\n') != std::string::npos) out.framing_ok = false;
    const std::string data = event.size() >= 6 ? event.substr(6) : "";
    if (out.done) out.framing_ok = false;  // nothing after [DONE]
    if (data == "[DONE]") {
      out.done = true;
      continue;
    }
    Json j = Json::parse(data, nullptr, false);
    if (j.is_discarded()) out.framing_ok = false;
    out.events.push_back(std::move(j));
  }
  return out;
}

void ServerTest::SetUpTestSuite() {
  if (server_ || !file_exists(kModelDir + "/config.json")) return;
  engine::EngineConfig c;
  c.model = kModelDir;
  c.threads = 1;
  c.kv_cache_memory = 32 << 20;
  c.max_model_len = 512;
  auto engine = engine::AsyncEngine::create(c);
  ASSERT_TRUE(engine.ok()) << engine.status().to_string();
  engine_ = std::move(*engine);
  auto mt = engine::load_model_tokenizer(kModelDir);
  ASSERT_TRUE(mt.ok()) << mt.status().to_string();
  tokenizer_ = *mt;
  auto source = chat::load_chat_template(kModelDir, false);
  ASSERT_TRUE(source.ok()) << source.status().to_string();
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  o.served_model_name = kModelName;
  o.model_root = kModelDir;
  o.api_key = kApiKey;
  o.chat_template = *source;
  o.http_threads = 64;
  auto server = Server::create(o, *engine_, *mt, engine::generation_defaults(engine_->model()));
  ASSERT_TRUE(server.ok()) << server.status().to_string();
  ASSERT_TRUE((*server)->bind().ok());
  server_ = std::move(*server);
  listener_ = std::thread([] { (void)server_->listen(); });
  ASSERT_TRUE(server_->warm_up().ok());
}

void ServerTest::TearDownTestSuite() {
  if (!server_) return;
  server_->shutdown();
  listener_.join();
  server_.reset();
  engine_.reset();
}

namespace {

httplib::Headers headers(bool auth) {
  httplib::Headers h;
  if (auth) h.emplace("Authorization", "Bearer " + kApiKey);
  return h;
}

}  // namespace

Reply to_reply(const httplib::Result& r) {
  Reply out;
  if (!r) return out;
  out.status = r->status;
  out.body = r->body;
  out.content_type = r->get_header_value("Content-Type");
  return out;
}

Reply ServerTest::post_raw(const std::string& path, const std::string& body, bool auth) {
  httplib::Client cli("127.0.0.1", port());
  cli.set_read_timeout(120, 0);
  return to_reply(cli.Post(path.c_str(), headers(auth), body, "application/json"));
}

Reply ServerTest::post(const std::string& path, const Json& body, bool auth) { return post_raw(path, body.dump(), auth); }

Reply ServerTest::get(const std::string& path, bool auth) {
  httplib::Client cli("127.0.0.1", port());
  return to_reply(cli.Get(path.c_str(), headers(auth)));
}

std::string ServerTest::labels(const std::string& extra) {
  std::string l = "model_name=\"" + kModelName + "\",engine=\"0\"";
  if (!extra.empty()) l += "," + extra;
  return l;
}

double ServerTest::metric(const std::string& text, const std::string& name_and_labels) {
  const std::string key = name_and_labels + " ";
  size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string::npos) {
    if (pos == 0 || text[pos - 1] == '\n') return std::strtod(text.c_str() + pos + key.size(), nullptr);
    pos += key.size();
  }
  return -1;
}

int32_t ServerTest::token_id(const std::string& text) { return tok().token_to_id(text); }

}  // namespace ember::server::testing
