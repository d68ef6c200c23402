#include "hub/http.h"

#include <curl/curl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>

namespace ember::hub {
namespace {

struct Transfer {
  const HttpRequest* req = nullptr;
  HttpResponse* res = nullptr;
  CURL* curl = nullptr;
  bool decided = false;  // whether this answer's body goes to the sink
  bool to_sink = false;
  std::string abort_reason;
};

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string line(data, size * n);
  if (line.rfind("HTTP/", 0) == 0) {  // a new answer (after a redirect): its own headers
    t->res->headers.clear();
    t->decided = false;
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string value = line.substr(colon + 1);
  while (!value.empty() && std::isspace(static_cast<unsigned char>(value.back()))) value.pop_back();
  size_t i = 0;
  while (i < value.size() && std::isspace(static_cast<unsigned char>(value[i]))) ++i;
  t->res->headers[lower(line.substr(0, colon))] = value.substr(i);
  return size * n;
}

// Decides, at an answer's first body byte, where the body goes.
bool decide(Transfer* t) {
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  t->decided = true;
  t->to_sink = t->req->sink && (code == 200 || code == 206);
  if (!t->to_sink) return true;
  FILE* f = t->req->sink;
  if (code == 200 && t->req->resume_from > 0) {
    // The server ignored the Range: start over.
    std::fflush(f);
    if (::ftruncate(::fileno(f), 0) != 0) {
      t->abort_reason = std::string("cannot truncate the partial download: ") + std::strerror(errno);
      return false;
    }
    std::fseek(f, 0, SEEK_SET);
    t->res->restarted = true;
    t->res->file_size = 0;
  } else if (code == 206) {
    // "bytes START-END/TOTAL" must start where the partial file ends.
    const std::string range = t->res->header("content-range");
    unsigned long long start = ~0ull;
    if (std::sscanf(range.c_str(), "bytes %llu-", &start) != 1 || start != t->req->resume_from) {
      t->abort_reason = "the server answered the range request from byte " +
                        (range.empty() ? std::string("?") : range) + ", not from " +
                        std::to_string(t->req->resume_from);
      return false;
    }
  }
  return true;
}

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const size_t bytes = size * n;
  if (!t->decided && !decide(t)) return 0;
  if (t->to_sink) {
    if (std::fwrite(data, 1, bytes, t->req->sink) != bytes) {
      t->abort_reason = std::string("cannot write the download: ") + std::strerror(errno);
      return 0;
    }
    t->res->file_size += bytes;
    if (t->req->on_progress) t->req->on_progress(t->res->file_size);
    return bytes;
  }
  const size_t room = t->req->max_body > t->res->body.size() ? t->req->max_body - t->res->body.size() : 0;
  if (bytes > room) {
    t->abort_reason = "the answer is larger than " + std::to_string(t->req->max_body) + " bytes";
    return 0;
  }
  t->res->body.append(data, bytes);
  return bytes;
}

struct SlistFree {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

std::string url_origin(const std::string& url) {
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos) return "";
  size_t host_end = url.find_first_of("/?#", scheme_end + 3);
  if (host_end == std::string::npos) host_end = url.size();
  std::string origin = lower(url.substr(0, host_end));
  const size_t at = origin.find('@', scheme_end + 3);  // drop user:password@
  if (at != std::string::npos) origin.erase(scheme_end + 3, at + 1 - (scheme_end + 3));
  return origin;
}

std::string url_encode(const std::string& s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

HttpResponse http_request(const HttpRequest& req) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });

  HttpResponse res;
  res.file_size = req.resume_from;
  CURL* curl = curl_easy_init();
  if (!curl) {
    res.curl_code = CURLE_FAILED_INIT;
    res.error = "cannot start libcurl";
    return res;
  }
  Transfer t;
  t.req = &req;
  t.res = &res;
  t.curl = curl;
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept-Encoding: identity");  // sizes are of the bytes as stored
  if (!req.bearer_token.empty() && !req.auth_origin.empty() && url_origin(req.url) == req.auth_origin)
    headers = curl_slist_append(headers, ("Authorization: Bearer " + req.bearer_token).c_str());
  std::unique_ptr<curl_slist, SlistFree> header_list(headers);

  curl_easy_setopt(curl, CURLOPT_URL, req.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "ember/0.1.0");
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, req.follow_redirects ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, req.connect_timeout_s);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, req.stall_timeout_s);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  if (req.method == "HEAD") curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  const std::string range = std::to_string(req.resume_from) + "-";
  if (req.sink && req.resume_from > 0) curl_easy_setopt(curl, CURLOPT_RANGE, range.c_str());

  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res.status);
  if (rc != CURLE_OK) {
    res.curl_code = rc;
    res.error = !t.abort_reason.empty() ? t.abort_reason : errbuf[0] ? errbuf : curl_easy_strerror(rc);
    while (!res.error.empty() && std::isspace(static_cast<unsigned char>(res.error.back()))) res.error.pop_back();
  }
  if (req.sink) std::fflush(req.sink);
  curl_easy_cleanup(curl);
  return res;
}

}  // namespace ember::hub
