// The embedded web UI as the server serves it: every file inflates to what
// the build wrote, has its type, ETag and cache class, and everything
// index.html and the stylesheet reference is there.
#include <zlib.h>

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <string>

#include "webui/assets.h"

namespace ember::webui {
namespace {

std::string gunzip(std::string_view gz) {
  z_stream zs{};
  EXPECT_EQ(inflateInit2(&zs, 16 + MAX_WBITS), Z_OK);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  zs.avail_in = static_cast<uInt>(gz.size());
  std::string out;
  char buf[65536];
  int rc = Z_OK;
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
  }
  inflateEnd(&zs);
  EXPECT_EQ(rc, Z_STREAM_END);
  EXPECT_EQ(zs.avail_in, 0u) << "bytes after the gzip stream";
  return out;
}

// The types the files of a Vite build need (empty: not checked).
std::string expected_type(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  if (path.ends_with(".woff2")) return "font/woff2";
  return "";
}

std::string body(const char* path) {
  const Asset* a = find_asset(path);
  return a ? gunzip(a->gzip) : std::string();
}

TEST(WebuiAssets, EveryFileInflatesAndHasTypeEtagAndCacheClass) {
  const auto assets = all_assets();
  ASSERT_FALSE(assets.empty());
  std::set<std::string_view> etags;
  for (size_t i = 0; i < assets.size(); ++i) {
    const Asset& a = assets[i];
    SCOPED_TRACE(std::string(a.path));
    if (i) {
      EXPECT_LT(assets[i - 1].path, a.path) << "sorted, unique";
    }
    EXPECT_EQ(a.path.substr(0, 1), "/");
    EXPECT_FALSE(gunzip(a.gzip).empty());
    EXPECT_TRUE(std::regex_match(std::string(a.etag), std::regex("\"[0-9a-f]{16}\""))) << a.etag;
    etags.insert(a.etag);
    EXPECT_EQ(a.immutable, a.path.starts_with("/assets/"));
    EXPECT_EQ(find_asset(a.path), &a);
    const std::string expected = expected_type(a.path);
    if (!expected.empty()) {
      EXPECT_EQ(a.content_type, expected);
    }
  }
  EXPECT_EQ(etags.size(), assets.size()) << "different files, different ETags";
  EXPECT_EQ(find_asset("/nope.js"), nullptr);
  EXPECT_EQ(find_asset(""), nullptr);
  EXPECT_EQ(find_asset("index.html"), nullptr);
}

TEST(WebuiAssets, IndexHtmlIsThereAndNotImmutable) {
  const Asset* index = find_asset("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_FALSE(index->immutable);
  const std::string html = body("/index.html");
  EXPECT_NE(html.find("<!doctype html>"), std::string::npos);
  EXPECT_EQ(ui_built(), static_cast<bool>(EMBER_WEBUI_BUILT));
  if (!ui_built()) {
    EXPECT_NE(html.find("scripts/setup"), std::string::npos) << "the placeholder says how to build the UI";
  }
}

TEST(WebuiAssets, EverythingReferencedIsEmbeddedAndOffline) {
  if (!ui_built()) GTEST_SKIP() << "built without the UI (placeholder page)";
  const std::string html = body("/index.html");
  std::set<std::string> refs;
  const std::regex attr("(?:src|href)=\"(/[^\"]+)\"");
  for (auto it = std::sregex_iterator(html.begin(), html.end(), attr); it != std::sregex_iterator(); ++it)
    refs.insert((*it)[1]);
  EXPECT_GE(refs.size(), 2u) << html;  // the script and the stylesheet
  size_t fonts = 0;
  for (const Asset& a : all_assets()) {
    if (!a.path.ends_with(".css")) continue;
    const std::string css = gunzip(a.gzip);
    const std::regex url("url\\(([^)]+)\\)");
    for (auto it = std::sregex_iterator(css.begin(), css.end(), url); it != std::sregex_iterator(); ++it) {
      std::string u = (*it)[1];
      if (u.starts_with("data:")) continue;
      EXPECT_TRUE(u.starts_with("/assets/")) << "no external URLs: " << u;
      EXPECT_TRUE(u.ends_with(".woff2")) << "fonts as woff2 only: " << u;
      refs.insert(u);
      ++fonts;
    }
  }
  EXPECT_GT(fonts, 10u) << "KaTeX's fonts";
  for (const std::string& r : refs) EXPECT_NE(find_asset(r), nullptr) << r;
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
}

TEST(WebuiAssets, CompressedSizeIsUnderTheBudget) {
  size_t total = 0;
  for (const Asset& a : all_assets()) total += a.gzip.size();
  EXPECT_LT(total, 1500u * 1000u) << "the issue's budget: at most 1.5 MB compressed";
  std::printf("web UI: %zu files, %zu bytes gzip-compressed\n", all_assets().size(), total);
}

}  // namespace
}  // namespace ember::webui
