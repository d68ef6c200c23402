// GGUF v2/v3 files: reading (metadata and tensor directory over an mmap) and
// writing (for make-random, quantize-at-load caches and tests). Parsing only:
// no knowledge of what a model does with the keys or tensors.
//
// Format: https://github.com/ggml-org/ggml/blob/master/docs/gguf.md
// Every length, count, offset and type read from the file is checked against
// the file size before use; a bad file gives a Status naming the file and the
// key or tensor, never a crash.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/mapped_file.h"
#include "base/status.h"
#include "tensor/dtype.h"

namespace ember::formats {

enum class GgufType : uint32_t {
  kUint8 = 0, kInt8 = 1, kUint16 = 2, kInt16 = 3, kUint32 = 4, kInt32 = 5, kFloat32 = 6,
  kBool = 7, kString = 8, kArray = 9, kUint64 = 10, kInt64 = 11, kFloat64 = 12,
};

// One metadata value. Scalars keep their GGUF type; arrays hold one element
// type (arrays of arrays are rejected as unsupported).
struct GgufValue {
  GgufType type = GgufType::kUint32;
  GgufType elem_type = GgufType::kUint32;       // for kArray
  std::variant<int64_t, uint64_t, double, bool, std::string> scalar;
  std::vector<std::string> strings;             // kArray of kString
  std::vector<int64_t> ints;                    // kArray of any integer or bool type
  std::vector<double> floats;                   // kArray of float types
};

struct GgufTensorInfo {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;   // GGUF order: shape[0] is the innermost (contiguous) dimension
  uint64_t offset = 0;          // from the start of the data section
  size_t bytes = 0;
  const uint8_t* data = nullptr;  // into the mapped file
  int64_t num_elements() const;
};

class GgufFile {
 public:
  static Result<GgufFile> open(const std::string& path);
  static Result<GgufFile> parse(std::shared_ptr<const MappedFile> file);
  // Parses bytes held elsewhere (fuzzing, tests); `keep` may be null when
  // the caller keeps the bytes alive.
  static Result<GgufFile> parse_bytes(const std::string& path, const uint8_t* data, size_t size,
                                      std::shared_ptr<const MappedFile> keep);

  const std::string& path() const { return path_; }
  uint32_t version() const { return version_; }
  size_t file_size() const { return size_; }
  size_t alignment() const { return alignment_; }

  bool has(std::string_view key) const;
  const GgufValue* find(std::string_view key) const;
  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return metadata_; }
  // Typed getters: not_found if absent, invalid_argument (naming key, actual
  // and expected type) if of the wrong kind. get_int accepts every integer
  // type, get_float every float and integer type.
  Result<std::string> get_string(std::string_view key) const;
  Result<int64_t> get_int(std::string_view key) const;
  Result<double> get_float(std::string_view key) const;
  Result<bool> get_bool(std::string_view key) const;
  Result<std::vector<std::string>> get_string_array(std::string_view key) const;
  Result<std::vector<int64_t>> get_int_array(std::string_view key) const;
  Result<std::vector<double>> get_float_array(std::string_view key) const;

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(std::string_view name) const;

  // Keeps the mapping alive for views handed out (tensor data pointers).
  std::shared_ptr<const MappedFile> mapping() const { return file_; }

 private:
  std::shared_ptr<const MappedFile> file_;
  std::string path_;
  size_t size_ = 0;
  uint32_t version_ = 0;
  size_t alignment_ = 32;
  std::map<std::string, GgufValue, std::less<>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t, std::less<>> tensor_index_;
};

// Builds a GGUF v3 file in memory-light fashion: metadata first, then tensors
// whose bytes are already in the target dtype's GGUF layout.
class GgufWriter {
 public:
  void set_string(const std::string& key, const std::string& value);
  void set_uint32(const std::string& key, uint32_t value);
  void set_int32(const std::string& key, int32_t value);
  void set_uint64(const std::string& key, uint64_t value);
  void set_float32(const std::string& key, float value);
  void set_bool(const std::string& key, bool value);
  void set_string_array(const std::string& key, const std::vector<std::string>& values);
  void set_int32_array(const std::string& key, const std::vector<int32_t>& values);
  void set_float32_array(const std::string& key, const std::vector<float>& values);
  // A value as GgufFile read it (copying metadata between files). Arrays of
  // strings, int32 and float32 only; others are invalid_argument.
  Status set_value(const std::string& key, const GgufValue& value);

  // shape in GGUF order (innermost first); bytes must equal the dtype's size
  // for that shape. The bytes are copied.
  Status add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                    const void* data, size_t bytes);

  // Writes to path + ".tmp" and renames, so a crash never leaves half a file.
  Status write(const std::string& path) const;

 private:
  struct Entry {
    std::string key;
    GgufValue value;
  };
  struct Tensor {
    std::string name;
    DType dtype;
    std::vector<int64_t> shape;
    std::vector<uint8_t> bytes;
  };
  void put_entry(const std::string& key, GgufValue value);

  std::vector<Entry> metadata_;
  std::vector<Tensor> tensors_;
  size_t alignment_ = 32;
};

}  // namespace ember::formats
