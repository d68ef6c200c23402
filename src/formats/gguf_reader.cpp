// GGUF reader: header, typed metadata, tensor directory; every count and
// length is checked against the bytes left before anything is allocated.
#include <limits>

#include "formats/byte_reader.h"
#include "formats/gguf.h"

namespace ember::formats {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr uint64_t kMaxStringBytes = uint64_t{1} << 30;
constexpr uint32_t kMaxDims = 4;

const char* type_name(GgufType t) {
  switch (t) {
    case GgufType::kUint8: return "uint8";
    case GgufType::kInt8: return "int8";
    case GgufType::kUint16: return "uint16";
    case GgufType::kInt16: return "int16";
    case GgufType::kUint32: return "uint32";
    case GgufType::kInt32: return "int32";
    case GgufType::kFloat32: return "float32";
    case GgufType::kBool: return "bool";
    case GgufType::kString: return "string";
    case GgufType::kArray: return "array";
    case GgufType::kUint64: return "uint64";
    case GgufType::kInt64: return "int64";
    case GgufType::kFloat64: return "float64";
  }
  return "unknown";
}

// Bytes one scalar of type t takes (strings: at least their 8-byte length).
size_t min_scalar_bytes(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kBool: return 1;
    case GgufType::kUint16: case GgufType::kInt16: return 2;
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kFloat32: return 4;
    case GgufType::kUint64: case GgufType::kInt64: case GgufType::kFloat64: case GgufType::kString: return 8;
    default: return 0;
  }
}

bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::kUint8: case GgufType::kInt8: case GgufType::kUint16: case GgufType::kInt16:
    case GgufType::kUint32: case GgufType::kInt32: case GgufType::kUint64: case GgufType::kInt64:
    case GgufType::kBool:
      return true;
    default:
      return false;
  }
}

class Parser {
 public:
  Parser(const std::string& path, const uint8_t* data, size_t size) : path_(path), r_(data, size) {}

  Status fail(const std::string& what) const {
    return corrupt(path_ + ": " + what + " (at byte " + std::to_string(r_.offset()) + ")");
  }

  Status read_string(std::string* out, const std::string& what) {
    uint64_t len;
    if (!r_.read(&len)) return fail("truncated: " + what + " length");
    if (len > kMaxStringBytes || len > r_.remaining())
      return fail(what + ": string of " + std::to_string(len) + " bytes exceeds the file");
    r_.read_bytes(static_cast<size_t>(len), out);
    return ok_status();
  }

  // One scalar of type t into v (integers to ints/uints, floats to double).
  Status read_scalar(GgufType t, GgufValue* v, const std::string& key) {
    auto truncated = [&] { return fail("truncated value of '" + key + "'"); };
    switch (t) {
      case GgufType::kUint8: { uint8_t x; if (!r_.read(&x)) return truncated(); v->scalar = uint64_t{x}; break; }
      case GgufType::kInt8: { int8_t x; if (!r_.read(&x)) return truncated(); v->scalar = int64_t{x}; break; }
      case GgufType::kUint16: { uint16_t x; if (!r_.read(&x)) return truncated(); v->scalar = uint64_t{x}; break; }
      case GgufType::kInt16: { int16_t x; if (!r_.read(&x)) return truncated(); v->scalar = int64_t{x}; break; }
      case GgufType::kUint32: { uint32_t x; if (!r_.read(&x)) return truncated(); v->scalar = uint64_t{x}; break; }
      case GgufType::kInt32: { int32_t x; if (!r_.read(&x)) return truncated(); v->scalar = int64_t{x}; break; }
      case GgufType::kUint64: { uint64_t x; if (!r_.read(&x)) return truncated(); v->scalar = x; break; }
      case GgufType::kInt64: { int64_t x; if (!r_.read(&x)) return truncated(); v->scalar = x; break; }
      case GgufType::kFloat32: { float x; if (!r_.read(&x)) return truncated(); v->scalar = double{x}; break; }
      case GgufType::kFloat64: { double x; if (!r_.read(&x)) return truncated(); v->scalar = x; break; }
      case GgufType::kBool: {
        uint8_t x;
        if (!r_.read(&x)) return truncated();
        if (x > 1) return fail("'" + key + "': bool value " + std::to_string(x));
        v->scalar = x != 0;
        break;
      }
      case GgufType::kString: {
        std::string s;
        EMBER_RETURN_IF_ERROR(read_string(&s, "value of '" + key + "'"));
        v->scalar = std::move(s);
        break;
      }
      default:
        return fail("'" + key + "': unknown value type " + std::to_string(static_cast<uint32_t>(t)));
    }
    return ok_status();
  }

  Status read_value(GgufValue* v, const std::string& key) {
    uint32_t type;
    if (!r_.read(&type)) return fail("truncated type of '" + key + "'");
    if (type > static_cast<uint32_t>(GgufType::kFloat64))
      return fail("'" + key + "': unknown value type " + std::to_string(type));
    v->type = static_cast<GgufType>(type);
    if (v->type != GgufType::kArray) return read_scalar(v->type, v, key);
    uint32_t elem;
    uint64_t count;
    if (!r_.read(&elem) || !r_.read(&count)) return fail("truncated array header of '" + key + "'");
    if (elem == static_cast<uint32_t>(GgufType::kArray))
      return unsupported(path_ + ": '" + key + "': arrays of arrays");
    if (elem > static_cast<uint32_t>(GgufType::kFloat64))
      return fail("'" + key + "': unknown array element type " + std::to_string(elem));
    v->elem_type = static_cast<GgufType>(elem);
    const size_t min_bytes = min_scalar_bytes(v->elem_type);
    if (count > r_.remaining() / min_bytes)
      return fail("'" + key + "': array of " + std::to_string(count) + " elements exceeds the file");
    GgufValue tmp;
    if (v->elem_type == GgufType::kString) {
      v->strings.resize(count);
      for (uint64_t i = 0; i < count; ++i)
        EMBER_RETURN_IF_ERROR(read_string(&v->strings[i], "element " + std::to_string(i) + " of '" + key + "'"));
    } else if (is_integer(v->elem_type)) {
      v->ints.resize(count);
      for (uint64_t i = 0; i < count; ++i) {
        EMBER_RETURN_IF_ERROR(read_scalar(v->elem_type, &tmp, key));
        if (auto* u = std::get_if<uint64_t>(&tmp.scalar)) v->ints[i] = static_cast<int64_t>(*u);
        else if (auto* s = std::get_if<int64_t>(&tmp.scalar)) v->ints[i] = *s;
        else v->ints[i] = std::get<bool>(tmp.scalar) ? 1 : 0;
      }
    } else {
      v->floats.resize(count);
      for (uint64_t i = 0; i < count; ++i) {
        EMBER_RETURN_IF_ERROR(read_scalar(v->elem_type, &tmp, key));
        v->floats[i] = std::get<double>(tmp.scalar);
      }
    }
    return ok_status();
  }

  ByteReader& reader() { return r_; }

 private:
  std::string path_;
  ByteReader r_;
};

}  // namespace

int64_t GgufTensorInfo::num_elements() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  EMBER_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(path));
  return parse(std::make_shared<const MappedFile>(std::move(mapped)));
}

Result<GgufFile> GgufFile::parse(std::shared_ptr<const MappedFile> file) {
  return parse_bytes(file->path(), file->data(), file->size(), file);
}

Result<GgufFile> GgufFile::parse_bytes(const std::string& path, const uint8_t* data, size_t size,
                                       std::shared_ptr<const MappedFile> keep) {
  GgufFile g;
  g.file_ = std::move(keep);
  g.path_ = path;
  g.size_ = size;
  Parser p(path, data, size);
  ByteReader& r = p.reader();
  uint32_t magic, version;
  if (!r.read(&magic) || magic != kMagic) return corrupt(path + ": not a GGUF file (bad magic)");
  if (!r.read(&version)) return p.fail("truncated header");
  if (version != 2 && version != 3)
    return unsupported(path + ": GGUF version " + std::to_string(version) + " (supported: 2, 3)");
  g.version_ = version;
  uint64_t n_tensors, n_kv;
  if (!r.read(&n_tensors) || !r.read(&n_kv)) return p.fail("truncated header");
  // Each key-value needs >= 13 bytes and each tensor info >= 24.
  if (n_kv > r.remaining() / 13) return p.fail("metadata count " + std::to_string(n_kv) + " exceeds the file");
  if (n_tensors > r.remaining() / 24) return p.fail("tensor count " + std::to_string(n_tensors) + " exceeds the file");

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key;
    EMBER_RETURN_IF_ERROR(p.read_string(&key, "metadata key " + std::to_string(i)));
    GgufValue v;
    EMBER_RETURN_IF_ERROR(p.read_value(&v, key));
    if (!g.metadata_.emplace(key, std::move(v)).second) return p.fail("duplicate metadata key '" + key + "'");
  }
  if (auto it = g.metadata_.find("general.alignment"); it != g.metadata_.end()) {
    const auto* a = std::get_if<uint64_t>(&it->second.scalar);
    if (!a || *a == 0 || (*a & (*a - 1)) != 0 || *a > 65536)
      return corrupt(path + ": general.alignment must be a power of two up to 65536");
    g.alignment_ = static_cast<size_t>(*a);
  }

  g.tensors_.resize(n_tensors);
  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo& t = g.tensors_[i];
    EMBER_RETURN_IF_ERROR(p.read_string(&t.name, "tensor name " + std::to_string(i)));
    uint32_t n_dims;
    if (!r.read(&n_dims)) return p.fail("truncated tensor info of '" + t.name + "'");
    if (n_dims == 0 || n_dims > kMaxDims)
      return p.fail("tensor '" + t.name + "' has " + std::to_string(n_dims) + " dimensions (expected 1 to 4)");
    uint64_t elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t dim;
      if (!r.read(&dim)) return p.fail("truncated tensor info of '" + t.name + "'");
      if (dim == 0 || dim > (uint64_t{1} << 40) || elements > (uint64_t{1} << 50) / dim)
        return p.fail("tensor '" + t.name + "' has an impossible dimension " + std::to_string(dim));
      elements *= dim;
      t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint32_t type;
    if (!r.read(&type) || !r.read(&t.offset)) return p.fail("truncated tensor info of '" + t.name + "'");
    auto info = dtype_info(type);
    if (!info)
      return unsupported(path + ": tensor '" + t.name + "' has unknown type id " + std::to_string(type));
    t.dtype = static_cast<DType>(type);
    if (t.shape[0] % info->block_elems != 0)
      return corrupt(path + ": tensor '" + t.name + "' of type " + std::string(info->name) + " has a row of " +
                     std::to_string(t.shape[0]) + " values, not a multiple of its block size " +
                     std::to_string(info->block_elems));
    t.bytes = static_cast<size_t>(elements / info->block_elems) * info->block_bytes;
    if (t.offset % g.alignment_ != 0)
      return corrupt(path + ": tensor '" + t.name + "' offset " + std::to_string(t.offset) + " is not aligned to " +
                     std::to_string(g.alignment_));
    if (!g.tensor_index_.emplace(t.name, i).second) return p.fail("duplicate tensor name '" + t.name + "'");
  }
  const size_t header_end = r.offset();
  const size_t data_start = (header_end + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  for (GgufTensorInfo& t : g.tensors_) {
    if (data_start > size || t.offset > size - data_start || t.bytes > size - data_start - t.offset)
      return corrupt(path + ": tensor '" + t.name + "' (" + std::to_string(t.bytes) + " bytes at data offset " +
                     std::to_string(t.offset) + ") extends past the end of the file: truncated?");
    t.data = data + data_start + t.offset;
  }
  return g;
}

bool GgufFile::has(std::string_view key) const { return metadata_.find(key) != metadata_.end(); }

const GgufValue* GgufFile::find(std::string_view key) const {
  auto it = metadata_.find(key);
  return it == metadata_.end() ? nullptr : &it->second;
}

const GgufTensorInfo* GgufFile::find_tensor(std::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

namespace {
Status wrong_type(const std::string& path, std::string_view key, GgufType actual, const char* expected) {
  return invalid_argument(path + ": metadata '" + std::string(key) + "' is " + type_name(actual) + ", expected " +
                          expected);
}
}  // namespace

#define EMBER_GGUF_FIND(v, key)                                                          \
  const GgufValue* v = find(key);                                                        \
  if (!v) return not_found(path() + ": metadata '" + std::string(key) + "' is missing")

Result<std::string> GgufFile::get_string(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (v->type != GgufType::kString) return wrong_type(path(), key, v->type, "string");
  return std::get<std::string>(v->scalar);
}

Result<int64_t> GgufFile::get_int(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (auto* u = std::get_if<uint64_t>(&v->scalar); u && v->type != GgufType::kArray) {
    if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return invalid_argument(path() + ": metadata '" + std::string(key) + "' is too large");
    return static_cast<int64_t>(*u);
  }
  if (auto* s = std::get_if<int64_t>(&v->scalar); s && v->type != GgufType::kArray) return *s;
  return wrong_type(path(), key, v->type, "an integer");
}

Result<double> GgufFile::get_float(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (v->type == GgufType::kArray) return wrong_type(path(), key, v->type, "a number");
  if (auto* d = std::get_if<double>(&v->scalar)) return *d;
  if (auto* u = std::get_if<uint64_t>(&v->scalar)) return static_cast<double>(*u);
  if (auto* s = std::get_if<int64_t>(&v->scalar)) return static_cast<double>(*s);
  return wrong_type(path(), key, v->type, "a number");
}

Result<bool> GgufFile::get_bool(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (v->type != GgufType::kBool) return wrong_type(path(), key, v->type, "bool");
  return std::get<bool>(v->scalar);
}

Result<std::vector<std::string>> GgufFile::get_string_array(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (v->type != GgufType::kArray || v->elem_type != GgufType::kString)
    return wrong_type(path(), key, v->type, "an array of strings");
  return v->strings;
}

Result<std::vector<int64_t>> GgufFile::get_int_array(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (v->type != GgufType::kArray || !is_integer(v->elem_type))
    return wrong_type(path(), key, v->type, "an array of integers");
  return v->ints;
}

Result<std::vector<double>> GgufFile::get_float_array(std::string_view key) const {
  EMBER_GGUF_FIND(v, key);
  if (v->type != GgufType::kArray || (v->elem_type != GgufType::kFloat32 && v->elem_type != GgufType::kFloat64))
    return wrong_type(path(), key, v->type, "an array of floats");
  return v->floats;
}

#undef EMBER_GGUF_FIND

}  // namespace ember::formats
