// libFuzzer target: GgufFile::parse_bytes on arbitrary bytes. A parse either
// fails with a Status naming the file or yields a directory whose every
// tensor lies inside the input; then every typed getter runs on every key and
// the first row of each readable tensor is decoded (codecs on arbitrary
// block bytes). The input buffer is exactly `size` bytes, so ASan catches
// any read past it.
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "formats/gguf.h"
#include "tensor/quant.h"

using ember::formats::GgufFile;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto g = GgufFile::parse_bytes("fuzz.gguf", data, size, nullptr);
  if (!g.ok()) {
    if (g.status().message().find("fuzz.gguf") == std::string::npos) std::abort();  // must name the file
    return 0;
  }
  for (const auto& [key, value] : g->metadata()) {
    (void)g->get_string(key);
    (void)g->get_int(key);
    (void)g->get_float(key);
    (void)g->get_bool(key);
    (void)g->get_string_array(key);
    (void)g->get_int_array(key);
    (void)g->get_float_array(key);
  }
  std::vector<float> row;
  for (const auto& t : g->tensors()) {
    if (t.data < data || t.bytes > size || t.data + t.bytes > data + size) std::abort();
    if (g->find_tensor(t.name) == nullptr) std::abort();
    const auto& info = ember::dtype_info(t.dtype);
    if (!info.supported || t.shape.empty() || t.shape[0] > 4096) continue;
    row.resize(static_cast<size_t>(t.shape[0]));
    ember::dequantize_row(t.dtype, t.data, row.data(), t.shape[0]);
  }
  return 0;
}
