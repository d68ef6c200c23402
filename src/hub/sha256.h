// SHA-256 of a file (OpenSSL's libcrypto), to check LFS downloads against
// the sha256 the Hub gives as their ETag.
#pragma once

#include <string>

#include "base/status.h"

namespace ember::hub {

// Lowercase hex digest of the file at PATH.
Result<std::string> sha256_file(const std::string& path);
// Lowercase hex digest of BYTES.
std::string sha256_hex(const std::string& bytes);
// 64 lowercase hex digits: what an LFS file's ETag is.
bool is_sha256_hex(const std::string& s);

}  // namespace ember::hub
