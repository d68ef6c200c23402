// Safetensors: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
// then the data. Sharded checkpoints list their files in
// model.safetensors.index.json ("weight_map": {tensor: file}).
#include "formats/safetensors.h"

#include <nlohmann/json.hpp>
#include <cstring>
#include <set>

#include "formats/json_file.h"

namespace ember::formats {
namespace {

constexpr uint64_t kMaxHeaderBytes = 100u << 20;

Status parse_one(const std::shared_ptr<const MappedFile>& file,
                 std::map<std::string, SafetensorsTensor, std::less<>>& out) {
  const std::string& path = file->path();
  const uint8_t* data = file->data();
  const size_t size = file->size();
  uint64_t header_len;
  if (size < 8) return corrupt(path + ": too short for a safetensors file");
  std::memcpy(&header_len, data, 8);
  if (header_len > kMaxHeaderBytes || header_len > size - 8)
    return corrupt(path + ": header length " + std::to_string(header_len) + " exceeds the file");
  nlohmann::json header = nlohmann::json::parse(data + 8, data + 8 + header_len, nullptr, false);
  if (header.is_discarded() || !header.is_object()) return corrupt(path + ": header is not a JSON object");
  const size_t data_start = 8 + header_len;
  const size_t data_size = size - data_start;
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    if (name == "__metadata__") continue;
    const auto& info = it.value();
    auto bad = [&](const std::string& why) { return corrupt(path + ": tensor '" + name + "': " + why); };
    if (!info.is_object() || !info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets"))
      return bad("needs dtype, shape and data_offsets");
    if (!info["dtype"].is_string()) return bad("dtype is not a string");
    const std::string dt = info["dtype"].get<std::string>();
    SafetensorsTensor t;
    t.name = name;
    t.file = path;
    size_t elem = 0;
    if (dt == "F32") { t.dtype = DType::kF32; elem = 4; }
    else if (dt == "F16") { t.dtype = DType::kF16; elem = 2; }
    else if (dt == "BF16") { t.dtype = DType::kBF16; elem = 2; }
    else return unsupported(path + ": tensor '" + name + "' has dtype " + dt + " (supported: F32, F16, BF16)");
    if (!info["shape"].is_array()) return bad("shape is not an array");
    uint64_t count = 1;
    for (const auto& d : info["shape"]) {
      if (!d.is_number_unsigned()) return bad("shape holds a non-integer");
      const uint64_t v = d.get<uint64_t>();
      if (v > (uint64_t{1} << 40) || (v && count > (uint64_t{1} << 50) / v)) return bad("impossible shape");
      count *= v;
      t.shape.push_back(static_cast<int64_t>(v));
    }
    const auto& off = info["data_offsets"];
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      return bad("data_offsets must be [begin, end]");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    if (begin > end || end > data_size)
      return bad("data [" + std::to_string(begin) + ", " + std::to_string(end) + ") lies outside the " +
                 std::to_string(data_size) + "-byte data section: truncated?");
    if (end - begin != count * elem)
      return bad("holds " + std::to_string(end - begin) + " bytes, but its dtype and shape need " +
                 std::to_string(count * elem));
    t.data = data + data_start + begin;
    t.bytes = static_cast<size_t>(end - begin);
    if (!out.emplace(name, std::move(t)).second)
      return corrupt(path + ": tensor '" + name + "' appears in more than one file");
  }
  return ok_status();
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

const SafetensorsTensor* SafetensorsCheckpoint::find(std::string_view name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::from_file(std::shared_ptr<const MappedFile> file) {
  SafetensorsCheckpoint c;
  EMBER_RETURN_IF_ERROR(parse_one(file, c.tensors_));
  c.files_.push_back(std::move(file));
  return c;
}

Result<SafetensorsCheckpoint> SafetensorsCheckpoint::open(const std::string& path) {
  std::vector<std::string> files;
  std::string index_path;
  std::vector<std::pair<std::string, std::string>> listed;  // tensor, shard file, from the index
  if (!is_directory(path)) {
    files.push_back(path);
  } else if (file_exists(path + "/model.safetensors.index.json")) {
    index_path = path + "/model.safetensors.index.json";
    EMBER_ASSIGN_OR_RETURN(nlohmann::ordered_json index, read_json_file(index_path));
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      return corrupt(index_path + ": no weight_map object");
    std::set<std::string> shards;
    for (const auto& [tensor, file] : index["weight_map"].items()) {
      if (!file.is_string()) return corrupt(index_path + ": weight_map['" + tensor + "'] is not a file name");
      const std::string f = file.get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        return corrupt(index_path + ": shard name '" + f + "' must be a plain file name");
      shards.insert(f);
      listed.emplace_back(tensor, f);
    }
    for (const auto& s : shards) files.push_back(path + "/" + s);
    if (files.empty()) return corrupt(index_path + ": weight_map is empty");
  } else if (file_exists(path + "/model.safetensors")) {
    files.push_back(path + "/model.safetensors");
  } else {
    return not_found(path + ": no model.safetensors or model.safetensors.index.json");
  }
  SafetensorsCheckpoint c;
  for (const auto& f : files) {
    if (!ends_with(f, ".safetensors") && is_directory(path))
      return corrupt(f + ": shard is not a .safetensors file");
    EMBER_ASSIGN_OR_RETURN(MappedFile mapped, MappedFile::open(f));
    auto shared = std::make_shared<const MappedFile>(std::move(mapped));
    EMBER_RETURN_IF_ERROR(parse_one(shared, c.tensors_));
    c.files_.push_back(std::move(shared));
  }
  // The index and the shards must agree: a tensor the index lists in a shard
  // that does not hold it would otherwise just be missing at load time.
  for (const auto& [tensor, shard] : listed) {
    auto it = c.tensors_.find(tensor);
    if (it == c.tensors_.end())
      return corrupt(index_path + ": weight_map lists tensor '" + tensor + "' in '" + shard +
                     "', but no shard holds it");
    if (it->second.file != path + "/" + shard)
      return corrupt(index_path + ": weight_map lists tensor '" + tensor + "' in '" + shard + "', but it is in '" +
                     it->second.file + "'");
  }
  return c;
}

}  // namespace ember::formats
