#include "io/gguf_file.h"

namespace frugal::io {
namespace {

Status WrongType(const std::string& key, GgufValueType type, const char* wanted) {
  return DataLoss("key '{}' has type {}, expected {}", key, GgufValueTypeName(type), wanted);
}

StatusOr<int64_t> ScalarToInt(const std::string& key, GgufValueType type, const GgufScalar& s) {
  if (!IsIntegerType(type)) return WrongType(key, type, "an integer");
  if (const auto* u = std::get_if<uint64_t>(&s)) {
    if (*u > uint64_t{INT64_MAX}) return DataLoss("key '{}': value {} is too large", key, *u);
    return static_cast<int64_t>(*u);
  }
  return std::get<int64_t>(s);
}

StatusOr<double> ScalarToFloat(const std::string& key, GgufValueType type, const GgufScalar& s) {
  if (IsFloatType(type)) return std::get<double>(s);
  if (IsIntegerType(type)) {
    FRUGAL_ASSIGN_OR_RETURN(int64_t v, ScalarToInt(key, type, s));
    return static_cast<double>(v);
  }
  return WrongType(key, type, "a number");
}

}  // namespace

const GgufValue* GgufFile::Find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kvs_[it->second].second;
}

StatusOr<int64_t> GgufFile::GetInt(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  return ScalarToInt(key, v->type, v->scalar);
}

StatusOr<double> GgufFile::GetFloat(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  return ScalarToFloat(key, v->type, v->scalar);
}

StatusOr<bool> GgufFile::GetBool(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  if (v->type != GgufValueType::kBool) return WrongType(key, v->type, "bool");
  return std::get<bool>(v->scalar);
}

StatusOr<std::string> GgufFile::GetString(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  if (v->type != GgufValueType::kString) return WrongType(key, v->type, "string");
  return std::get<std::string>(v->scalar);
}

StatusOr<std::vector<std::string>> GgufFile::GetStringArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  if (v->type != GgufValueType::kArray || v->elem_type != GgufValueType::kString) {
    return WrongType(key, v->type, "array of strings");
  }
  std::vector<std::string> out;
  out.reserve(v->elems.size());
  for (const GgufScalar& s : v->elems) out.push_back(std::get<std::string>(s));
  return out;
}

StatusOr<std::vector<int64_t>> GgufFile::GetIntArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  if (v->type != GgufValueType::kArray || !IsIntegerType(v->elem_type)) {
    return WrongType(key, v->type, "array of integers");
  }
  std::vector<int64_t> out;
  out.reserve(v->elems.size());
  for (const GgufScalar& s : v->elems) {
    FRUGAL_ASSIGN_OR_RETURN(int64_t x, ScalarToInt(key, v->elem_type, s));
    out.push_back(x);
  }
  return out;
}

StatusOr<std::vector<double>> GgufFile::GetFloatArray(const std::string& key) const {
  const GgufValue* v = Find(key);
  if (!v) return NotFound("key '{}' is missing", key);
  if (v->type != GgufValueType::kArray || !IsFloatType(v->elem_type)) {
    return WrongType(key, v->type, "array of floats");
  }
  std::vector<double> out;
  out.reserve(v->elems.size());
  for (const GgufScalar& s : v->elems) out.push_back(std::get<double>(s));
  return out;
}

const GgufTensorInfo* GgufFile::FindTensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

StatusOr<std::span<const std::byte>> GgufFile::MappedTensorData(const GgufTensorInfo& info) const {
  std::span<const std::byte> mapped = file_->Mapped();
  if (mapped.empty() && info.n_bytes > 0) {
    return Status(StatusCode::kFailedPrecondition, "'" + name() + "' is not memory-mapped");
  }
  // Placement was validated by ReadGguf: [file_offset, file_offset + n_bytes) is inside the file.
  return mapped.subspan(info.file_offset, info.n_bytes);
}

Status GgufFile::ReadTensorData(const GgufTensorInfo& info, std::vector<std::byte>* out) const {
  out->resize(info.n_bytes);
  return file_->ReadAt(info.file_offset, *out);
}

}  // namespace frugal::io
