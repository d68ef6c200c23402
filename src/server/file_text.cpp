#include "server/file_text.h"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <cctype>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>

#include "base/log.h"

namespace ember::server {
namespace {

bool starts_with(std::string_view s, std::string_view prefix) { return s.substr(0, prefix.size()) == prefix; }

// Signatures of common binary formats without a NUL in their first bytes.
const char* binary_kind(std::string_view b) {
  struct Magic {
    std::string_view bytes;
    const char* kind;
  };
  static const Magic kMagic[] = {
      {"\x89PNG", "a PNG image"},         {"\xFF\xD8\xFF", "a JPEG image"}, {"GIF8", "a GIF image"},
      {"PK\x03\x04", "a ZIP archive (or an Office document)"}, {"\x1F\x8B", "a gzip archive"},
      {"\x7F" "ELF", "an executable"},    {"BZh", "a bzip2 archive"},       {"7z\xBC\xAF", "a 7-Zip archive"},
      {"\xFD" "7zXZ", "an xz archive"},   {"RIFF", "a RIFF media file"},     {"OggS", "an Ogg media file"},
      {"ID3", "an MP3 file"},             {"\x28\xB5\x2F\xFD", "a zstd archive"},
  };
  for (const auto& m : kMagic)
    if (starts_with(b, m.bytes)) return m.kind;
  if (b.find('\0') != std::string_view::npos) return "a binary file";
  return nullptr;
}

size_t invalid_utf8_at(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
    else return i;
    if (i + len > n) return i;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return i;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
      return i;
    i += len;
  }
  return std::string::npos;
}

void quiet_poppler(const std::string& message, void*) { LOG_DEBUG("poppler: %s", message.c_str()); }

Result<FileText> pdf_text(const std::string& label, std::string_view bytes) {
  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max()))
    return invalid_argument(label + ": is too large");
  // Poppler's error callback and caches are process-wide: one PDF at a time.
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  static const bool quiet = (poppler::set_debug_error_function(quiet_poppler, nullptr), true);
  (void)quiet;
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
  if (!doc) return invalid_argument(label + ": is not a readable PDF (damaged or truncated?)");
  if (doc->is_locked()) return invalid_argument(label + ": is a password-protected PDF");
  FileText out;
  out.type = "pdf";
  const int pages = doc->pages();
  for (int i = 0; i < pages; ++i) {
    std::unique_ptr<poppler::page> page(doc->create_page(i));
    if (!page) continue;
    const poppler::byte_array utf8 = page->text().to_utf8();
    if (!out.text.empty() && !utf8.empty()) out.text += "\n\n";
    out.text.append(utf8.data(), utf8.size());
  }
  bool blank = true;
  for (char c : out.text)
    if (!std::isspace(static_cast<unsigned char>(c))) blank = false;
  if (blank) return invalid_argument(label + ": this PDF has no text to extract (a scanned document?)");
  return out;
}

}  // namespace

bool valid_utf8(std::string_view s) { return invalid_utf8_at(s) == std::string::npos; }

Result<FileText> extract_file_text(std::string_view name, std::string_view content_type, std::string_view bytes) {
  const std::string label = name.empty() ? std::string("the file") : std::string(name);
  // A PDF starts with its header; readers accept one after a little junk
  // (up to 1024 bytes) when the file says it is a PDF.
  auto ends_with = [](std::string_view s, std::string_view suffix) {
    if (s.size() < suffix.size()) return false;
    for (size_t i = 0; i < suffix.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
    return true;
  };
  const bool says_pdf = ends_with(name, ".pdf") || content_type == "application/pdf";
  if (starts_with(bytes, "%PDF-") || (says_pdf && bytes.substr(0, 1024).find("%PDF-") != std::string_view::npos))
    return pdf_text(label, bytes);
  if (starts_with(bytes, "\xFF\xFE") || starts_with(bytes, "\xFE\xFF"))
    return invalid_argument(label + ": is UTF-16 text; save it as UTF-8");
  if (const char* kind = binary_kind(bytes)) {
    std::string m = label + ": is " + kind;
    if (!content_type.empty()) m += " (" + std::string(content_type) + ")";
    return unsupported(m + "; only text, Markdown, code, CSV and PDF files can be attached");
  }
  if (starts_with(bytes, "\xEF\xBB\xBF")) bytes.remove_prefix(3);  // UTF-8 BOM
  if (size_t at = invalid_utf8_at(bytes); at != std::string::npos)
    return invalid_argument(label + ": is not valid UTF-8 text (at byte " + std::to_string(at) + "); save it as UTF-8");
  return FileText{std::string(bytes), "text"};
}

}  // namespace ember::server
