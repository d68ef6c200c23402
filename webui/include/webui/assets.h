// The browser UI's static files (webui/, built by Vite), embedded in the
// binary gzip-compressed. The server serves them at / (src/server).
#pragma once

#include <span>
#include <string_view>

namespace ember::webui {

struct Asset {
  std::string_view path;          // "/index.html", "/assets/index-abc123.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view gzip;          // the file, gzip -9n
  std::string_view etag;          // quoted hash of the uncompressed file: "\"0123456789abcdef\""
  bool immutable;                 // content-hashed name (/assets/*): cache for a year
};

// The asset at `path` (starting with '/'); nullptr if none.
const Asset* find_asset(std::string_view path);

// Every asset, sorted by path.
std::span<const Asset> all_assets();

// Whether this is the real UI or the placeholder page (built without node/npm
// or with -DEMBER_WEBUI=OFF).
bool ui_built();

}  // namespace ember::webui
