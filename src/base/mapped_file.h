// A read-only memory map of a whole file. Weights are used in place from the
// map wherever a kernel can read their bytes as they are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "base/status.h"

namespace ember {

class MappedFile {
 public:
  MappedFile() = default;
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  static Result<MappedFile> open(const std::string& path);

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  void reset();
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

// Tells the kernel the pages of [data, data + bytes) inside a read-only file
// mapping are not needed now (their contents were copied elsewhere), so they
// leave the resident set; touching them again re-reads the file.
void release_mapped_pages(const void* data, size_t bytes);

// Reads a whole (small) file into a string: configs, templates, JSON.
Result<std::string> read_file(const std::string& path);
bool file_exists(const std::string& path);
bool is_directory(const std::string& path);

}  // namespace ember
