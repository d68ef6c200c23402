// The text of an uploaded file, for the web UI's attachments (POST
// /api/files): text, Markdown, code and CSV files as they are (UTF-8, a BOM
// dropped), PDFs through poppler's text extraction. Never throws.
#pragma once

#include <string>
#include <string_view>

#include "base/status.h"

namespace ember::server {

struct FileText {
  std::string text;
  std::string type;  // "text" | "pdf"
};

// `name` and `content_type` as the client sent them (used only to word
// errors). Errors: kUnsupported for a binary file that is not a PDF (415),
// kInvalidArgument for text that is not UTF-8 or a PDF that cannot be read
// (400).
Result<FileText> extract_file_text(std::string_view name, std::string_view content_type, std::string_view bytes);

// Well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool valid_utf8(std::string_view s);

}  // namespace ember::server
