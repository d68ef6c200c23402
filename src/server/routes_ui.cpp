// The web UI's static files, embedded in the binary by webui/ (the
// ember_webui library). Each asset is stored gzipped: sent as is to a client
// that takes gzip, inflated once (and kept) for one that does not.
#include <httplib.h>
#include <zlib.h>

#include <cctype>
#include <map>
#include <mutex>
#include <string>

#include "server/web_routes.h"

#if __has_include("webui/assets.h")
#include "webui/assets.h"
#else
// Built without webui/ (no ember_webui target): no assets, so / answers 404.
#include <span>
namespace ember::webui {
struct Asset {
  std::string_view path, content_type, gzip, etag;
  bool immutable;
};
inline const Asset* find_asset(std::string_view) { return nullptr; }
inline std::span<const Asset> all_assets() { return {}; }
}  // namespace ember::webui
#endif

namespace ember::server {
namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// Calls f(item) for each comma-separated item of a header.
template <class F>
void for_each_item(std::string_view header, F f) {
  while (!header.empty()) {
    const size_t comma = header.find(',');
    f(trim(header.substr(0, comma)));
    if (comma == std::string_view::npos) break;
    header.remove_prefix(comma + 1);
  }
}

bool is_gzip(std::string_view b) { return b.size() >= 2 && b[0] == '\x1f' && b[1] == '\x8b'; }

// The inflated bytes of a gzip member; empty on failure.
bool gunzip(std::string_view in, std::string* out) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return false;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  char buf[16384];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out->append(buf, sizeof(buf) - z.avail_out);
  }
  inflateEnd(&z);
  return rc == Z_STREAM_END;
}

// The identity bytes of an asset, inflated on first use.
const std::string* identity_bytes(const webui::Asset& a) {
  static std::mutex mutex;
  static std::map<std::pair<const char*, size_t>, std::string> cache;  // by the gzip bytes' address
  std::lock_guard<std::mutex> lock(mutex);
  const auto key = std::make_pair(a.gzip.data(), a.gzip.size());
  if (auto it = cache.find(key); it != cache.end()) return &it->second;
  std::string out;
  if (!gunzip(a.gzip, &out)) return nullptr;
  return &cache.emplace(key, std::move(out)).first->second;
}

std::string quoted_etag(std::string_view etag) {
  if (etag.empty() || etag.front() == '"' || starts_with(etag, "W/")) return std::string(etag);
  std::string q(1, '"');
  q.append(etag);
  q.push_back('"');
  return q;
}

bool etag_matches(std::string_view if_none_match, const std::string& etag) {
  auto opaque = [](std::string_view t) {
    if (starts_with(t, "W/")) t.remove_prefix(2);
    return t;
  };
  bool match = false;
  for_each_item(if_none_match, [&](std::string_view item) {
    if (item == "*" || (!etag.empty() && opaque(item) == opaque(etag))) match = true;
  });
  return match;
}

// The last path segment has a dot: a file, not a route of the UI.
bool has_extension(std::string_view path) {
  const size_t slash = path.rfind('/');
  return path.substr(slash == std::string_view::npos ? 0 : slash + 1).find('.') != std::string_view::npos;
}

void send_bytes(httplib::Response& res, std::string_view bytes, std::string_view content_type) {
  // A sized content provider: httplib compresses set_content bodies of
  // text types itself, which would encode the gzip bytes twice.
  res.set_content_provider(bytes.size(), std::string(content_type),
                           [bytes](size_t offset, size_t length, httplib::DataSink& sink) {
                             return sink.write(bytes.data() + offset, length);
                           });
}

}  // namespace

bool accepts_gzip(std::string_view accept_encoding) {
  int gzip = -1, star = -1;  // -1 unlisted, 0 refused, 1 accepted
  for_each_item(accept_encoding, [&](std::string_view item) {
    const size_t semi = item.find(';');
    const std::string_view coding = trim(item.substr(0, semi));
    bool ok = true;
    if (semi != std::string_view::npos) {
      std::string_view params = item.substr(semi + 1);
      while (!params.empty()) {
        const size_t next = params.find(';');
        std::string_view p = trim(params.substr(0, next));
        if (p.size() >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
          // q=0, q=0.0, q=0.000: refused.
          std::string_view v = p.substr(2);
          ok = false;
          for (char c : v)
            if (c >= '1' && c <= '9') ok = true;
        }
        if (next == std::string_view::npos) break;
        params.remove_prefix(next + 1);
      }
    }
    if (iequals(coding, "gzip") || iequals(coding, "x-gzip")) gzip = ok;
    else if (coding == "*") star = ok;
  });
  return gzip == 1 || (gzip == -1 && star == 1);
}

bool is_ui_path(std::string_view path) {
  if (path == "/v1" || path == "/api" || starts_with(path, "/v1/") || starts_with(path, "/api/")) return false;
  for (std::string_view p : {"/metrics", "/health", "/version", "/tokenize", "/detokenize", "/generate"})
    if (path == p) return false;
  return true;
}

void serve_ui(const httplib::Request& req, httplib::Response& res, const AssetFinder& find) {
  std::string_view path = req.path;
  if (path == "/") path = "/index.html";
  const webui::Asset* a = find(path);
  if (!a && !has_extension(path)) a = find("/index.html");  // a route of the single-page app
  if (!a) {
    res.status = 404;  // the server's error handler writes the body
    return;
  }
  const std::string etag = quoted_etag(a->etag);
  if (!etag.empty()) res.set_header("ETag", etag);
  res.set_header("Cache-Control", a->immutable ? "public, max-age=31536000, immutable" : "no-cache");
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Vary", "Accept-Encoding");
  if (!etag.empty() && req.has_header("If-None-Match") && etag_matches(req.get_header_value("If-None-Match"), etag)) {
    res.status = 304;
    return;
  }
  res.status = 200;
  if (!is_gzip(a->gzip)) {
    send_bytes(res, a->gzip, a->content_type);  // stored uncompressed
  } else if (accepts_gzip(req.get_header_value("Accept-Encoding"))) {
    res.set_header("Content-Encoding", "gzip");
    send_bytes(res, a->gzip, a->content_type);
  } else if (const std::string* plain = identity_bytes(*a)) {
    send_bytes(res, *plain, a->content_type);
  } else {
    res.status = 500;
    res.set_content("the embedded asset " + std::string(path) + " is damaged", "text/plain");
  }
}

void install_ui_routes(httplib::Server& http) {
  static const AssetFinder kEmbedded = [](std::string_view path) { return webui::find_asset(path); };
  http.Get(".*", [](const httplib::Request& req, httplib::Response& res) {
    if (!is_ui_path(req.path)) {
      res.status = 404;
      return;
    }
    serve_ui(req, res, kEmbedded);
  });
}

}  // namespace ember::server
