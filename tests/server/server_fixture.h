// One ember server per test process: tiny-r1vocab (hf/ dir) on a free
// loopback port with an API key, plus helpers to call it and read SSE.
#pragma once

#include <httplib.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "engine/async_engine.h"
#include "engine/tokenizer_loader.h"
#include "server/server.h"

namespace ember::server::testing {

using Json = nlohmann::ordered_json;

inline const std::string kModelDir = std::string(EMBER_FIXTURES_DIR) + "/models/tiny-r1vocab/hf";
inline const std::string kApiKey = "test-key";
inline const std::string kModelName = "tiny-r1";

struct Reply {
  int status = 0;
  std::string body;
  std::string content_type;
  Json json() const { return Json::parse(body, nullptr, false); }
};

// What httplib's client got (status 0 when the request failed).
Reply to_reply(const httplib::Result& r);

// SSE body -> the JSON of each `data:` event; `done` when it ended with
// [DONE] as the last event; `framing_ok` when every event is exactly
// "data: ...\n\n".
struct SseEvents {
  std::vector<Json> events;
  bool done = false;
  bool framing_ok = true;
};
SseEvents parse_sse(const std::string& body);

class ServerTest : public ::testing::Test {
 public:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override {
    if (!server_) GTEST_SKIP() << "fixture model missing or server failed to start";
  }

  static Reply post(const std::string& path, const Json& body, bool auth = true);
  static Reply post_raw(const std::string& path, const std::string& body, bool auth = true);
  static Reply get(const std::string& path, bool auth = true);
  // The value of one sample line of /metrics (exact name{labels}); -1 if absent.
  static double metric(const std::string& text, const std::string& name_and_labels);
  static std::string labels(const std::string& extra = "");

  static int port() { return server_->port(); }
  static engine::AsyncEngine& engine() { return *engine_; }
  static const tokenizer::Tokenizer& tok() { return *tokenizer_.tokenizer; }
  static int32_t token_id(const std::string& text);

  static std::unique_ptr<engine::AsyncEngine> engine_;
  static std::unique_ptr<Server> server_;
  static engine::ModelTokenizer tokenizer_;
  static std::thread listener_;
};

}  // namespace ember::server::testing
