// GET /v1/models, /metrics; POST /tokenize, /detokenize (vLLM's shapes).
#include <httplib.h>

#include "server/json_fields.h"
#include "server/response_cache.h"
#include "server/server.h"

namespace ember::server {

void Server::handle_models(const httplib::Request&, httplib::Response& res) {
  Json model = {{"id", options_.served_model_name},
                {"object", "model"},
                {"created", created_},
                {"owned_by", "ember"},
                {"root", options_.model_root.empty() ? options_.served_model_name : options_.model_root},
                {"parent", nullptr},
                {"max_model_len", engine_.max_model_len()},
                {"permission", Json::array()}};
  send_json(res, Json{{"object", "list"}, {"data", Json::array({model})}});
}

void Server::handle_metrics(const httplib::Request&, httplib::Response& res) {
  std::string text = metrics_->render(engine_.stats());
  response_cache_->render_metrics(text, metrics_->labels());
  res.set_content(text, "text/plain; version=0.0.4; charset=utf-8");
}

// vLLM's /tokenize and /detokenize bodies: a JSON object whose optional
// "model" must be the served one.
std::optional<ApiError> Server::parse_model_body(const std::string& text, Json* body) const {
  if (auto e = parse_body(text, body)) return e;
  std::string model;
  if (auto e = JsonFields(*body).get_string("model", &model)) return e;
  return check_model(model);
}

void Server::handle_tokenize(const httplib::Request& req, httplib::Response& res) {
  Json body;
  if (auto e = parse_model_body(req.body, &body)) return send_error(res, *e);
  JsonFields f(body);
  bool token_strs = false;
  if (auto e = f.get_bool("return_token_strs", &token_strs)) return send_error(res, *e);
  std::string text;
  bool add_special = true;
  if (f.has("messages")) {
    ChatRequest cr;
    if (auto e = parse_chat_request(body, parse_context_, &cr)) return send_error(res, *e);
    if (auto e = render_chat(cr, &text)) return send_error(res, *e);
    add_special = false;  // the template wrote them (vLLM's default for messages)
  } else {
    if (!f.has("prompt")) return send_error(res, bad_request("prompt", "prompt: is required (or messages)"));
    if (auto e = f.get_string("prompt", &text)) return send_error(res, *e);
  }
  if (auto e = f.get_bool("add_special_tokens", &add_special)) return send_error(res, *e);
  auto ids = tokenizer_.tokenizer->encode(text, {.add_special_tokens = add_special, .parse_special = true});
  if (!ids.ok()) return send_error(res, bad_request("prompt", ids.status().message()));
  Json strs = nullptr;
  if (token_strs) {
    strs = Json::array();
    for (int32_t id : *ids) strs.push_back(tokenizer_.tokenizer->id_to_token(id).value_or(""));
  }
  send_json(res, Json{{"count", ids->size()},
                      {"max_model_len", engine_.max_model_len()},
                      {"tokens", *ids},
                      {"token_strs", strs}});
}

void Server::handle_detokenize(const httplib::Request& req, httplib::Response& res) {
  Json body;
  if (auto e = parse_model_body(req.body, &body)) return send_error(res, *e);
  JsonFields f(body);
  if (!f.has("tokens")) return send_error(res, bad_request("tokens", "tokens: is required"));
  std::vector<int32_t> ids;
  if (auto e = f.get_int_list("tokens", 0, parse_context_.vocab - 1, &ids)) return send_error(res, *e);
  send_json(res, Json{{"prompt", tokenizer_.tokenizer->decode(ids, false)}});
}

}  // namespace ember::server
