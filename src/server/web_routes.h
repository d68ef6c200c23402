// The web UI's side of the server: the chat store's REST API under /api/
// (routes_api.cpp, docs/chat-store-api.md) and the UI's static files,
// embedded in the binary (routes_ui.cpp).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ember::webui {
struct Asset;
}

namespace ember::server {

class ChatStore;

// The chat store API's error body (docs/chat-store-api.md: the OpenAI shape,
// type invalid_request_error / not_found_error / server_error, code null).
// Also what the server's error handler writes for an /api/ path.
std::string api_error_body(int status, const std::string& message, const std::string& param = "");
bool is_api_path(std::string_view path);

// /api/ routes over `store` (which must outlive the server); a null store
// makes every /api/ route answer 404 saying the chat store is off.
void install_api_routes(httplib::Server& http, ChatStore* store);

// GET / and every GET path is_ui_path accepts: the embedded asset, else
// index.html for a path without an extension (the UI routes it), else 404.
// Register it after every other route: it matches any GET path.
void install_ui_routes(httplib::Server& http);
// Not /v1/, /api/, /metrics, /health, /version, /tokenize, /detokenize,
// /generate: a path of the UI (served without authentication).
bool is_ui_path(std::string_view path);

// One UI request answered from `find` (path -> asset, nullptr if none):
// gzip or identity as Accept-Encoding allows, ETag / If-None-Match,
// Cache-Control. What install_ui_routes runs, over the embedded assets.
using AssetFinder = std::function<const webui::Asset*(std::string_view path)>;
void serve_ui(const httplib::Request& req, httplib::Response& res, const AssetFinder& find);

// Accept-Encoding takes gzip (q > 0, directly or through *).
bool accepts_gzip(std::string_view accept_encoding);

}  // namespace ember::server
