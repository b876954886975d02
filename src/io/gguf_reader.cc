// GGUF parser with checked arithmetic everywhere. The error classes mirror the hand-made
// corpus in tests/data/gguf_corpus (one file per class, including the classes behind
// llama.cpp's GGUF CVEs: unchecked counts, lengths, size products and offsets).
#include <fmt/format.h>

#include <algorithm>

#include "io/gguf_cursor.h"
#include "io/gguf_file.h"
#include "util/checked_math.h"

namespace frugal::io {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
// Smallest possible encodings, to bound counts by the bytes left in the file.
constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;            // key len, 1-byte key, type, u8
constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;  // name len+1, n_dims, 1 dim, type, offset

class Parser {
 public:
  explicit Parser(const RandomAccessFile& file) : cur_(file) {}

  Status ParseHeader(uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv);
  Status ParseValue(GgufValueType type, int depth, const std::string& key, GgufValue* out);
  Status ParseKv(std::string* key, GgufValue* value, uint64_t index);
  Status ParseTensorInfo(GgufTensorInfo* info, uint64_t index);
  FileCursor& cursor() { return cur_; }

 private:
  Status ParseScalar(GgufValueType type, const std::string& key, GgufScalar* out);
  Status ParseArray(int depth, const std::string& key, GgufValue* out);

  FileCursor cur_;
};

Status Parser::ParseHeader(uint32_t* version, uint64_t* n_tensors, uint64_t* n_kv) {
  uint32_t magic = 0;
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&magic, "the magic"));
  if (magic != kMagic) return DataLoss("bad magic 0x{:08x} (expected \"GGUF\"); not a GGUF file", magic);
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(version, "the version"));
  if (*version != 2 && *version != 3) {
    return DataLoss("unsupported version {} (frugal reads GGUF versions 2 and 3)", *version);
  }
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(n_tensors, "tensor_count"));
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(n_kv, "kv_count"));
  if (*n_tensors > cur_.remaining() / kMinTensorInfoBytes) {
    return DataLoss("tensor_count {} cannot fit in the {} bytes left in the file", *n_tensors,
                    cur_.remaining());
  }
  if (*n_kv > cur_.remaining() / kMinKvBytes) {
    return DataLoss("kv_count {} cannot fit in the {} bytes left in the file", *n_kv, cur_.remaining());
  }
  return OkStatus();
}

Status Parser::ParseScalar(GgufValueType type, const std::string& key, GgufScalar* out) {
  const char* what = "a metadata value";
  switch (type) {
    case GgufValueType::kUint8: { uint8_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = uint64_t{v}; break; }
    case GgufValueType::kInt8: { int8_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = int64_t{v}; break; }
    case GgufValueType::kUint16: { uint16_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = uint64_t{v}; break; }
    case GgufValueType::kInt16: { int16_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = int64_t{v}; break; }
    case GgufValueType::kUint32: { uint32_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = uint64_t{v}; break; }
    case GgufValueType::kInt32: { int32_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = int64_t{v}; break; }
    case GgufValueType::kUint64: { uint64_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = v; break; }
    case GgufValueType::kInt64: { int64_t v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = v; break; }
    case GgufValueType::kFloat32: { float v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = double{v}; break; }
    case GgufValueType::kFloat64: { double v; FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what)); *out = v; break; }
    case GgufValueType::kBool: {
      uint8_t v;
      FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&v, what));
      if (v > 1) return DataLoss("key '{}': bool byte {} is neither 0 nor 1", key, v);
      *out = v == 1;
      break;
    }
    case GgufValueType::kString: {
      std::string s;
      FRUGAL_RETURN_IF_ERROR(cur_.ReadString(&s, UINT64_MAX, fmt::format("key '{}'", key)));
      *out = std::move(s);
      break;
    }
    case GgufValueType::kArray:
      return DataLoss("key '{}': internal: array passed as scalar", key);
  }
  return OkStatus();
}

Status CheckValueType(uint32_t raw, const std::string& key) {
  if (raw >= kGgufValueTypeCount) return DataLoss("key '{}': unknown value type {}", key, raw);
  return OkStatus();
}

Status Parser::ParseArray(int depth, const std::string& key, GgufValue* out) {
  if (depth > kGgufMaxArrayNesting) {
    return DataLoss("key '{}': arrays nested deeper than {} (nesting limit)", key, kGgufMaxArrayNesting);
  }
  uint32_t raw_type = 0;
  uint64_t count = 0;
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&raw_type, "an array element type"));
  FRUGAL_RETURN_IF_ERROR(CheckValueType(raw_type, key));
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&count, "an array length"));
  const auto elem_type = static_cast<GgufValueType>(raw_type);
  // Every element takes at least this many bytes: reject counts the file cannot hold
  // before allocating anything.
  const uint64_t min_bytes = elem_type == GgufValueType::kString  ? 8
                             : elem_type == GgufValueType::kArray ? 12
                                                                  : ScalarBytes(elem_type);
  if (count > cur_.remaining() / min_bytes) {
    return DataLoss("key '{}': array of {} {} elements cannot fit in the {} bytes left in the file",
                    key, count, GgufValueTypeName(elem_type), cur_.remaining());
  }
  out->type = GgufValueType::kArray;
  out->elem_type = elem_type;
  if (elem_type == GgufValueType::kArray) {
    out->nested.resize(count);
    for (uint64_t i = 0; i < count; ++i) {
      FRUGAL_RETURN_IF_ERROR(ParseArray(depth + 1, key, &out->nested[i]));
    }
    return OkStatus();
  }
  out->elems.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    FRUGAL_RETURN_IF_ERROR(ParseScalar(elem_type, key, &out->elems[i]));
  }
  return OkStatus();
}

Status Parser::ParseValue(GgufValueType type, int depth, const std::string& key, GgufValue* out) {
  if (type == GgufValueType::kArray) return ParseArray(depth + 1, key, out);
  out->type = type;
  return ParseScalar(type, key, &out->scalar);
}

Status Parser::ParseKv(std::string* key, GgufValue* value, uint64_t index) {
  FRUGAL_RETURN_IF_ERROR(cur_.ReadString(key, kGgufMaxKeyLength, fmt::format("key #{}", index)));
  if (key->empty()) return DataLoss("key #{} is an empty key", index);
  uint32_t raw_type = 0;
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&raw_type, "a value type"));
  FRUGAL_RETURN_IF_ERROR(CheckValueType(raw_type, *key));
  return ParseValue(static_cast<GgufValueType>(raw_type), 0, *key, value);
}

Status CheckTensorType(const std::string& name, uint32_t raw, GgmlType* type) {
  if (IsRemovedTypeId(raw)) {
    return DataLoss("tensor '{}': ggml type {} was removed from ggml; re-convert the model", name, raw);
  }
  if (raw >= kGgmlTypeCount || !TraitsOfTypeId(raw)) {
    return DataLoss("tensor '{}': unknown ggml type {}", name, raw);
  }
  *type = static_cast<GgmlType>(raw);
  return OkStatus();
}

Status Parser::ParseTensorInfo(GgufTensorInfo* info, uint64_t index) {
  const std::string what = fmt::format("tensor #{} name", index);
  FRUGAL_RETURN_IF_ERROR(cur_.ReadString(&info->name, UINT64_MAX, what));
  if (info->name.empty() || info->name.size() > kGgufMaxTensorName) {
    return DataLoss("tensor #{}: tensor name of {} bytes (must be 1..{})", index, info->name.size(),
                    kGgufMaxTensorName);
  }
  uint32_t n_dims = 0;
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&n_dims, "n_dims"));
  if (n_dims == 0 || n_dims > kMaxDims) {
    return DataLoss("tensor '{}': n_dims {} (must be 1..{})", info->name, n_dims, kMaxDims);
  }
  info->shape.n_dims = static_cast<int>(n_dims);
  uint64_t elements = 1;
  for (uint32_t d = 0; d < n_dims; ++d) {
    uint64_t ne = 0;
    FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&ne, "a tensor dimension"));
    if (ne == 0) return DataLoss("tensor '{}': dimension {} is 0", info->name, d);
    if (!CheckedMul(elements, ne, &elements) || elements > uint64_t{INT64_MAX}) {
      return DataLoss("tensor '{}': element count overflows at dimension {} ({})", info->name, d, ne);
    }
    info->shape.ne[d] = ne;
  }
  uint32_t raw_type = 0;
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&raw_type, "a tensor type"));
  FRUGAL_RETURN_IF_ERROR(CheckTensorType(info->name, raw_type, &info->type));
  FRUGAL_RETURN_IF_ERROR(cur_.ReadPod(&info->offset, "a tensor offset"));
  const GgmlTypeTraits traits = TraitsOf(info->type);
  if (info->shape.ne[0] % traits.block_elems != 0) {
    return DataLoss("tensor '{}': ne[0] = {} is not a multiple of the {} block size {}", info->name,
                    info->shape.ne[0], traits.name, traits.block_elems);
  }
  if (!CheckedMul(elements / traits.block_elems, traits.block_bytes, &info->n_bytes)) {
    return DataLoss("tensor '{}': byte size overflows 64 bits, so its data lies outside the file",
                    info->name);
  }
  return OkStatus();
}

Status CheckAlignment(const GgufValue& v, uint64_t* alignment) {
  if (v.type != GgufValueType::kUint32) {
    return DataLoss("general.alignment has type {} (must be u32)", GgufValueTypeName(v.type));
  }
  const uint64_t a = std::get<uint64_t>(v.scalar);
  if (!IsPowerOfTwo(a)) return DataLoss("general.alignment {} is not a non-zero power of two", a);
  *alignment = a;
  return OkStatus();
}

// Offsets aligned, ranges inside the file, no two tensors sharing bytes.
Status CheckTensorPlacement(std::vector<GgufTensorInfo>& tensors, uint64_t data_offset,
                            uint64_t alignment, uint64_t file_size) {
  for (GgufTensorInfo& t : tensors) {
    if (t.offset % alignment != 0) {
      return DataLoss("tensor '{}': offset {} is not a multiple of the alignment {}", t.name,
                      t.offset, alignment);
    }
    uint64_t end;
    if (!CheckedAdd(data_offset, t.offset, &t.file_offset) ||
        !CheckedAdd(t.file_offset, t.n_bytes, &end) || end > file_size) {
      return DataLoss("tensor '{}': data (offset {}, {} bytes) lies outside the file ({} bytes)",
                      t.name, t.offset, t.n_bytes, file_size);
    }
  }
  std::vector<const GgufTensorInfo*> by_offset;
  for (const GgufTensorInfo& t : tensors) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](auto* a, auto* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < by_offset.size(); ++i) {
    const GgufTensorInfo* prev = by_offset[i - 1];
    if (prev->offset + prev->n_bytes > by_offset[i]->offset) {
      return DataLoss("tensors '{}' and '{}' overlap in the file", prev->name, by_offset[i]->name);
    }
  }
  return OkStatus();
}

}  // namespace

StatusOr<GgufFile> ReadGguf(std::unique_ptr<RandomAccessFile> file) {
  GgufFile out;
  Parser parser(*file);
  const std::string context = "gguf '" + file->name() + "'";
  uint64_t n_tensors = 0, n_kv = 0;
  Status s = parser.ParseHeader(&out.version_, &n_tensors, &n_kv);
  for (uint64_t i = 0; s.ok() && i < n_kv; ++i) {
    std::string key;
    GgufValue value;
    s = parser.ParseKv(&key, &value, i);
    if (!s.ok()) break;
    if (out.kv_index_.count(key)) {
      s = DataLoss("duplicate key '{}'", key);
      break;
    }
    if (key == "general.alignment") s = CheckAlignment(value, &out.alignment_);
    out.kv_index_.emplace(key, out.kvs_.size());
    out.kvs_.emplace_back(std::move(key), std::move(value));
  }
  for (uint64_t i = 0; s.ok() && i < n_tensors; ++i) {
    GgufTensorInfo info;
    s = parser.ParseTensorInfo(&info, i);
    if (!s.ok()) break;
    if (out.tensor_index_.count(info.name)) {
      s = DataLoss("duplicate tensor name '{}'", info.name);
      break;
    }
    out.tensor_index_.emplace(info.name, out.tensors_.size());
    out.tensors_.push_back(std::move(info));
  }
  if (s.ok() && !CheckedAlignUp(parser.cursor().position(), out.alignment_, &out.data_offset_)) {
    s = DataLoss("data section offset overflows");
  }
  if (s.ok() && !out.tensors_.empty() && out.data_offset_ > file->Size()) {
    s = DataLoss("truncated: data section starts at {} but the file has {} bytes", out.data_offset_,
                 file->Size());
  }
  if (s.ok()) s = CheckTensorPlacement(out.tensors_, out.data_offset_, out.alignment_, file->Size());
  if (!s.ok()) return s.WithContext(context);
  out.file_ = std::move(file);
  return out;
}

StatusOr<GgufFile> OpenGguf(const std::string& path) {
  FRUGAL_ASSIGN_OR_RETURN(auto file, OpenMmapFile(path));
  return ReadGguf(std::move(file));
}

}  // namespace frugal::io
