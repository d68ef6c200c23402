// libFuzzer target: SafetensorsCheckpoint::from_file on arbitrary bytes,
// written to a per-process temporary file and mapped as the loader maps it.
// A parse either fails with a Status naming the file or yields tensors whose
// bytes lie inside the file and agree with their dtype and shape.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "base/mapped_file.h"
#include "formats/safetensors.h"

namespace {

const std::string& temp_path() {
  static const std::string path =
      (std::filesystem::temp_directory_path() / ("ember_safetensors_fuzz_" + std::to_string(getpid()) + ".safetensors"))
          .string();
  return path;
}

struct RemoveAtExit {
  ~RemoveAtExit() { std::remove(temp_path().c_str()); }
} remove_at_exit;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = temp_path();
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) std::abort();
  if (size && std::fwrite(data, 1, size, f) != size) std::abort();
  std::fclose(f);
  auto mapped = ember::MappedFile::open(path);
  if (!mapped.ok()) std::abort();
  auto file = std::make_shared<const ember::MappedFile>(std::move(mapped).value());
  auto st = ember::formats::SafetensorsCheckpoint::from_file(file);
  if (!st.ok()) {
    if (st.status().message().find(path) == std::string::npos) std::abort();  // must name the file
    return 0;
  }
  const uint8_t* begin = file->data();
  const uint8_t* end = begin + file->size();
  unsigned sum = 0;
  for (const auto& [name, t] : st->tensors()) {
    if (t.bytes && (t.data < begin || t.bytes > file->size() || t.data + t.bytes > end)) std::abort();
    uint64_t n = 1;
    for (int64_t d : t.shape) n *= static_cast<uint64_t>(d);
    if (n * ember::dtype_info(t.dtype).block_bytes != t.bytes) std::abort();
    if (t.bytes) sum += t.data[0] + t.data[t.bytes - 1];
  }
  volatile unsigned sink = sum;
  (void)sink;
  return 0;
}
