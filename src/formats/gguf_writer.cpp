// GGUF v3 writer: metadata, tensor directory, aligned data; written to a
// temporary file and renamed so a failure never leaves half a model.
#include <cstdio>
#include <cstring>

#include "formats/gguf.h"

namespace ember::formats {
namespace {

class FileOut {
 public:
  explicit FileOut(std::FILE* f) : f_(f) {}
  template <class T>
  void put(const T& v) {
    ok_ = ok_ && std::fwrite(&v, sizeof(T), 1, f_) == 1;
    written_ += sizeof(T);
  }
  void put_bytes(const void* p, size_t n) {
    ok_ = ok_ && (n == 0 || std::fwrite(p, 1, n, f_) == n);
    written_ += n;
  }
  void put_string(const std::string& s) {
    put(static_cast<uint64_t>(s.size()));
    put_bytes(s.data(), s.size());
  }
  void pad_to(size_t alignment) {
    static const uint8_t zeros[64] = {};
    while (written_ % alignment) put_bytes(zeros, std::min<size_t>(64, alignment - written_ % alignment));
  }
  bool ok() const { return ok_; }

 private:
  std::FILE* f_;
  bool ok_ = true;
  size_t written_ = 0;
};

void put_scalar(FileOut& out, GgufType t, const GgufValue& v) {
  switch (t) {
    case GgufType::kUint32: out.put(static_cast<uint32_t>(std::get<uint64_t>(v.scalar))); break;
    case GgufType::kInt32: out.put(static_cast<int32_t>(std::get<int64_t>(v.scalar))); break;
    case GgufType::kUint64: out.put(std::get<uint64_t>(v.scalar)); break;
    case GgufType::kFloat32: out.put(static_cast<float>(std::get<double>(v.scalar))); break;
    case GgufType::kBool: out.put(static_cast<uint8_t>(std::get<bool>(v.scalar) ? 1 : 0)); break;
    case GgufType::kString: out.put_string(std::get<std::string>(v.scalar)); break;
    default: break;
  }
}

}  // namespace

// Setting a key again replaces its value in place: a file with a repeated key
// is rejected by every GGUF reader, this one included.
void GgufWriter::put_entry(const std::string& key, GgufValue value) {
  for (auto& e : metadata_) {
    if (e.key == key) {
      e.value = std::move(value);
      return;
    }
  }
  metadata_.push_back({key, std::move(value)});
}

void GgufWriter::set_string(const std::string& key, const std::string& value) {
  GgufValue v;
  v.type = GgufType::kString;
  v.scalar = value;
  put_entry(key, std::move(v));
}
void GgufWriter::set_uint32(const std::string& key, uint32_t value) {
  GgufValue v;
  v.type = GgufType::kUint32;
  v.scalar = uint64_t{value};
  put_entry(key, std::move(v));
}
void GgufWriter::set_int32(const std::string& key, int32_t value) {
  GgufValue v;
  v.type = GgufType::kInt32;
  v.scalar = int64_t{value};
  put_entry(key, std::move(v));
}
void GgufWriter::set_uint64(const std::string& key, uint64_t value) {
  GgufValue v;
  v.type = GgufType::kUint64;
  v.scalar = value;
  put_entry(key, std::move(v));
}
void GgufWriter::set_float32(const std::string& key, float value) {
  GgufValue v;
  v.type = GgufType::kFloat32;
  v.scalar = double{value};
  put_entry(key, std::move(v));
}
void GgufWriter::set_bool(const std::string& key, bool value) {
  GgufValue v;
  v.type = GgufType::kBool;
  v.scalar = value;
  put_entry(key, std::move(v));
}
void GgufWriter::set_string_array(const std::string& key, const std::vector<std::string>& values) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = GgufType::kString;
  v.strings = values;
  put_entry(key, std::move(v));
}
void GgufWriter::set_int32_array(const std::string& key, const std::vector<int32_t>& values) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = GgufType::kInt32;
  v.ints.assign(values.begin(), values.end());
  put_entry(key, std::move(v));
}
void GgufWriter::set_float32_array(const std::string& key, const std::vector<float>& values) {
  GgufValue v;
  v.type = GgufType::kArray;
  v.elem_type = GgufType::kFloat32;
  v.floats.assign(values.begin(), values.end());
  put_entry(key, std::move(v));
}

Status GgufWriter::set_value(const std::string& key, const GgufValue& value) {
  if (value.type == GgufType::kArray && value.elem_type != GgufType::kString &&
      value.elem_type != GgufType::kInt32 && value.elem_type != GgufType::kFloat32)
    return invalid_argument("metadata '" + key + "': arrays of type " +
                            std::to_string(static_cast<uint32_t>(value.elem_type)) + " cannot be written");
  put_entry(key, value);
  return ok_status();
}

Status GgufWriter::add_tensor(const std::string& name, DType dtype, const std::vector<int64_t>& shape,
                              const void* data, size_t bytes) {
  if (!dtype_info(static_cast<uint32_t>(dtype)))
    return invalid_argument("tensor '" + name + "': unknown type id " + std::to_string(static_cast<uint32_t>(dtype)));
  const DTypeInfo& info = dtype_info(dtype);
  if (shape.empty() || shape.size() > 4) return invalid_argument("tensor '" + name + "': 1 to 4 dimensions");
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d <= 0) return invalid_argument("tensor '" + name + "': dimensions must be positive");
    // The reader's limits (2^40 per dimension, 2^50 in all); also keeps n from overflowing.
    if (d > (int64_t{1} << 40) || n > (int64_t{1} << 50) / d)
      return invalid_argument("tensor '" + name + "': too many elements");
    n *= d;
  }
  if (shape[0] % info.block_elems != 0)
    return invalid_argument("tensor '" + name + "': rows are not a whole number of blocks");
  if (static_cast<size_t>(n / info.block_elems) * info.block_bytes != bytes)
    return invalid_argument("tensor '" + name + "': " + std::to_string(bytes) + " bytes do not match its shape");
  for (const auto& t : tensors_)
    if (t.name == name) return invalid_argument("tensor '" + name + "' added twice");
  Tensor t{name, dtype, shape, {}};
  t.bytes.assign(static_cast<const uint8_t*>(data), static_cast<const uint8_t*>(data) + bytes);
  tensors_.push_back(std::move(t));
  return ok_status();
}

Status GgufWriter::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return io_error(tmp + ": cannot open for writing");
  FileOut out(f);
  out.put(uint32_t{0x46554747});
  out.put(uint32_t{3});
  out.put(static_cast<uint64_t>(tensors_.size()));
  out.put(static_cast<uint64_t>(metadata_.size()));
  for (const auto& e : metadata_) {
    out.put_string(e.key);
    out.put(static_cast<uint32_t>(e.value.type));
    if (e.value.type != GgufType::kArray) {
      put_scalar(out, e.value.type, e.value);
      continue;
    }
    out.put(static_cast<uint32_t>(e.value.elem_type));
    if (e.value.elem_type == GgufType::kString) {
      out.put(static_cast<uint64_t>(e.value.strings.size()));
      for (const auto& s : e.value.strings) out.put_string(s);
    } else if (e.value.elem_type == GgufType::kInt32) {
      out.put(static_cast<uint64_t>(e.value.ints.size()));
      for (int64_t x : e.value.ints) out.put(static_cast<int32_t>(x));
    } else {
      out.put(static_cast<uint64_t>(e.value.floats.size()));
      for (double x : e.value.floats) out.put(static_cast<float>(x));
    }
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    out.put_string(t.name);
    out.put(static_cast<uint32_t>(t.shape.size()));
    for (int64_t d : t.shape) out.put(static_cast<uint64_t>(d));
    out.put(static_cast<uint32_t>(t.dtype));
    out.put(offset);
    offset += (t.bytes.size() + alignment_ - 1) / alignment_ * alignment_;
  }
  out.pad_to(alignment_);
  for (const auto& t : tensors_) {
    out.put_bytes(t.bytes.data(), t.bytes.size());
    out.pad_to(alignment_);
  }
  const bool closed = std::fclose(f) == 0;
  if (!out.ok() || !closed) {
    std::remove(tmp.c_str());
    return io_error(tmp + ": write failed (disk full?)");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return io_error(path + ": cannot rename the temporary file into place");
  }
  return ok_status();
}

}  // namespace ember::formats
