// The chat store's REST API (docs/chat-store-api.md) and file uploads.
// Authentication is the server's pre-routing check, as for /v1/.
#include <httplib.h>

#include <string>

#include "base/log.h"
#include "server/chat_store.h"
#include "server/file_text.h"
#include "server/json_fields.h"
#include "server/web_routes.h"

namespace ember::server {
namespace {

using Json = nlohmann::ordered_json;
using Req = httplib::Request;
using Res = httplib::Response;

constexpr size_t kMaxUploadBytes = 32u << 20;  // all files of one POST /api/files

void send(Res& res, const Json& body, int status = 200) {
  res.status = status;
  res.set_content(dump_json(body), "application/json");
}

void send_error(Res& res, int status, const std::string& message, const std::string& param = "") {
  res.status = status;
  res.set_content(api_error_body(status, message, param), "application/json");
}

// "param: why" (the store's messages) -> the param; "" when there is none.
std::string param_of(const std::string& m) {
  const size_t colon = m.find(": ");
  if (colon == std::string::npos || colon == 0 || colon > 120) return "";
  for (size_t i = 0; i < colon; ++i) {
    const char c = m[i];
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '[' || c == ']')) return "";
  }
  const std::string p = m.substr(0, colon);
  return p == "body" ? "" : p;
}

void send_status(Res& res, const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument: return send_error(res, 400, s.message(), param_of(s.message()));
    case StatusCode::kNotFound: return send_error(res, 404, s.message());
    case StatusCode::kResourceExhausted: return send_error(res, 503, s.message());
    default:
      LOG_ERROR("%s", s.to_string().c_str());
      return send_error(res, 500, s.message());
  }
}

template <class T>
void reply(Res& res, const Result<T>& r, int status = 200) {
  if (!r.ok()) return send_status(res, r.status());
  send(res, *r, status);
}

// The body as a JSON object, or a 400 sent.
bool read_body(const Req& req, Res& res, Json* out) {
  *out = Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (out->is_discarded()) {
    send_error(res, 400, "The request body is not valid JSON.");
    return false;
  }
  if (!out->is_object()) {
    send_error(res, 400, "The request body must be a JSON object.");
    return false;
  }
  return true;
}

std::string file_name(const httplib::MultipartFormData& part) {
  std::string name = part.filename;
  if (const size_t slash = name.find_last_of("/\\"); slash != std::string::npos) name = name.substr(slash + 1);
  if (name.empty() || !valid_utf8(name)) return "file";
  if (name.size() > 255) {
    size_t cut = 255;
    while (cut > 0 && (static_cast<unsigned char>(name[cut]) & 0xC0) == 0x80) --cut;  // not inside a character
    name.resize(cut);
  }
  return name;
}

void handle_files(const Req& req, Res& res) {
  if (!req.is_multipart_form_data())
    return send_error(res, 400, "Send the files as multipart/form-data, one 'file' part each.", "file");
  auto [begin, end] = req.files.equal_range("file");
  if (begin == end) return send_error(res, 400, "file: the form has no 'file' part", "file");
  size_t total = 0;
  for (auto it = begin; it != end; ++it) total += it->second.content.size();
  if (total > kMaxUploadBytes)
    return send_error(res, 413, "The files are larger than " + std::to_string(kMaxUploadBytes >> 20) + " MiB together.",
                      "file");
  Json files = Json::array();
  for (auto it = begin; it != end; ++it) {
    const httplib::MultipartFormData& part = it->second;
    const std::string name = file_name(part);
    auto text = extract_file_text(name, part.content_type, part.content);
    if (!text.ok()) {
      const int status = text.status().code() == StatusCode::kUnsupported ? 415 : 400;
      return send_error(res, status, text.status().message(), "file");
    }
    files.push_back(Json{{"name", name}, {"text", std::move(text->text)}, {"bytes", part.content.size()}, {"type", text->type}});
  }
  send(res, Json{{"files", std::move(files)}});
}

}  // namespace

std::string api_error_body(int status, const std::string& message, const std::string& param) {
  const char* type = status == 404 ? "not_found_error" : status >= 500 ? "server_error" : "invalid_request_error";
  return dump_json(Json{{"error", {{"message", message},
                                   {"type", type},
                                   {"param", param.empty() ? Json(nullptr) : Json(param)},
                                   {"code", nullptr}}}});
}

bool is_api_path(std::string_view path) { return path == "/api" || path.substr(0, 5) == "/api/"; }

void install_api_routes(httplib::Server& http, ChatStore* store) {
  const char* kAny = R"(/api(/.*)?)";
  if (!store) {
    auto off = [](const Req&, Res& res) {
      send_error(res, 404, "The chat store is off on this server (ember serve --data-dir DIR keeps chats).");
    };
    http.Get(kAny, off).Post(kAny, off).Put(kAny, off).Patch(kAny, off).Delete(kAny, off);
    return;
  }
  ChatStore& s = *store;
  const char* kConv = R"(/api/conversations/([^/]+))";
  http.Get("/api/conversations", [&s](const Req& req, Res& res) {
    Result<Json> list = s.list_conversations(req.get_param_value("q"));
    if (!list.ok()) return send_status(res, list.status());
    send(res, Json{{"conversations", std::move(*list)}});
  });
  http.Post("/api/conversations", [&s](const Req& req, Res& res) {
    Json body;
    if (read_body(req, res, &body)) reply(res, s.create_conversation(body), 201);
  });
  http.Get(kConv, [&s](const Req& req, Res& res) { reply(res, s.get_conversation(req.matches[1])); });
  http.Patch(kConv, [&s](const Req& req, Res& res) {
    Json body;
    if (read_body(req, res, &body)) reply(res, s.update_conversation(req.matches[1], body));
  });
  http.Delete(kConv, [&s](const Req& req, Res& res) {
    if (Status st = s.delete_conversation(req.matches[1]); !st.ok()) return send_status(res, st);
    res.status = 204;
  });
  http.Post(R"(/api/conversations/([^/]+)/messages)", [&s](const Req& req, Res& res) {
    Json body;
    if (read_body(req, res, &body)) reply(res, s.add_message(req.matches[1], body), 201);
  });
  http.Patch(R"(/api/conversations/([^/]+)/messages/([^/]+))", [&s](const Req& req, Res& res) {
    Json body;
    if (read_body(req, res, &body)) reply(res, s.update_message(req.matches[1], req.matches[2], body));
  });
  http.Get(R"(/api/conversations/([^/]+)/export)", [&s](const Req& req, Res& res) {
    reply(res, s.export_conversations(req.matches[1]));
  });
  http.Get("/api/export", [&s](const Req&, Res& res) { reply(res, s.export_conversations()); });
  http.Post("/api/import", [&s](const Req& req, Res& res) {
    Json body;
    if (!read_body(req, res, &body)) return;
    Result<int64_t> n = s.import_conversations(body);
    if (!n.ok()) return send_status(res, n.status());
    send(res, Json{{"imported", *n}});
  });
  http.Get("/api/settings", [&s](const Req&, Res& res) { reply(res, s.settings()); });
  http.Put("/api/settings", [&s](const Req& req, Res& res) {
    Json body;
    if (!read_body(req, res, &body)) return;
    if (Status st = s.put_settings(body); !st.ok()) return send_status(res, st);
    reply(res, s.settings());
  });
  http.Post("/api/files", [](const Req& req, Res& res) { handle_files(req, res); });
  // Anything else under /api/: a 404 that says so (after the routes above).
  auto unknown = [](const Req& req, Res& res) {
    send_error(res, 404, "No route " + req.method + " " + req.path + " in the chat store API.");
  };
  http.Get(kAny, unknown).Post(kAny, unknown).Put(kAny, unknown).Patch(kAny, unknown).Delete(kAny, unknown);
}

}  // namespace ember::server
