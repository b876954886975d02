#include "io/gguf_writer.h"

#include <cstring>

#include "util/check.h"
#include "util/checked_math.h"

namespace frugal::io {
namespace {

class Buffer {
 public:
  template <typename T>
  void Pod(T v) {
    Raw(&v, sizeof(T));
  }
  void String(const std::string& s) {
    Pod<uint64_t>(s.size());
    Raw(s.data(), s.size());
  }
  // memcpy after resize: GCC 12 misreports vector::insert of small ranges as an overflow.
  void Raw(const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = bytes.size();
    bytes.resize(at + n);
    std::memcpy(bytes.data() + at, p, n);
  }
  void Scalar(GgufValueType type, const GgufScalar& s);
  void Value(const GgufValue& v);
  std::vector<std::byte> bytes;
};

void Buffer::Scalar(GgufValueType type, const GgufScalar& s) {
  auto u = [&] { return std::get<uint64_t>(s); };
  auto i = [&] { return std::get<int64_t>(s); };
  switch (type) {
    case GgufValueType::kUint8: Pod(static_cast<uint8_t>(u())); break;
    case GgufValueType::kInt8: Pod(static_cast<int8_t>(i())); break;
    case GgufValueType::kUint16: Pod(static_cast<uint16_t>(u())); break;
    case GgufValueType::kInt16: Pod(static_cast<int16_t>(i())); break;
    case GgufValueType::kUint32: Pod(static_cast<uint32_t>(u())); break;
    case GgufValueType::kInt32: Pod(static_cast<int32_t>(i())); break;
    case GgufValueType::kUint64: Pod(u()); break;
    case GgufValueType::kInt64: Pod(i()); break;
    case GgufValueType::kFloat32: Pod(static_cast<float>(std::get<double>(s))); break;
    case GgufValueType::kFloat64: Pod(std::get<double>(s)); break;
    case GgufValueType::kBool: Pod(static_cast<uint8_t>(std::get<bool>(s) ? 1 : 0)); break;
    case GgufValueType::kString: String(std::get<std::string>(s)); break;
    case GgufValueType::kArray: FRUGAL_CHECK(false && "array is not a scalar"); break;
  }
}

void Buffer::Value(const GgufValue& v) {
  if (v.type != GgufValueType::kArray) {
    Scalar(v.type, v.scalar);
    return;
  }
  Pod(static_cast<uint32_t>(v.elem_type));
  Pod<uint64_t>(v.array_size());
  if (v.elem_type == GgufValueType::kArray) {
    for (const GgufValue& n : v.nested) Value(n);
  } else {
    for (const GgufScalar& s : v.elems) Scalar(v.elem_type, s);
  }
}

}  // namespace

GgufWriter::GgufWriter(uint32_t version, uint32_t alignment) : version_(version), alignment_(alignment) {
  FRUGAL_CHECK(IsPowerOfTwo(alignment));
  if (alignment != 32) SetValue("general.alignment", GgufValue::Uint32(alignment));
}

void GgufWriter::SetValue(const std::string& key, GgufValue value) {
  for (auto& kv : kvs_) {
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  }
  kvs_.emplace_back(key, std::move(value));
}

size_t GgufWriter::AddTensor(std::string name, TensorShape shape, GgmlType type) {
  const uint64_t n_bytes = shape.rows() * RowBytes(type, shape.ne[0]);
  tensors_.push_back({std::move(name), shape, type, data_bytes_, n_bytes});
  FRUGAL_CHECK(CheckedAlignUp(data_bytes_ + n_bytes, alignment_, &data_bytes_));
  return tensors_.size() - 1;
}

Status GgufWriter::Pad(WritableFile& out, uint64_t to_multiple) {
  static const std::byte kZeros[256] = {};
  uint64_t target;
  FRUGAL_CHECK(CheckedAlignUp(written_, to_multiple, &target));
  while (written_ < target) {
    const uint64_t n = std::min<uint64_t>(target - written_, sizeof(kZeros));
    FRUGAL_RETURN_IF_ERROR(out.Append({kZeros, static_cast<size_t>(n)}));
    written_ += n;
  }
  return OkStatus();
}

Status GgufWriter::WriteHeader(WritableFile& out) {
  Buffer b;
  b.Pod<uint32_t>(0x46554747);
  b.Pod<uint32_t>(version_);
  b.Pod<uint64_t>(tensors_.size());
  b.Pod<uint64_t>(kvs_.size());
  for (const auto& [key, value] : kvs_) {
    b.String(key);
    b.Pod(static_cast<uint32_t>(value.type));
    b.Value(value);
  }
  for (const Tensor& t : tensors_) {
    b.String(t.name);
    b.Pod<uint32_t>(static_cast<uint32_t>(t.shape.n_dims));
    for (int d = 0; d < t.shape.n_dims; ++d) b.Pod<uint64_t>(t.shape.ne[d]);
    b.Pod(static_cast<uint32_t>(t.type));
    b.Pod<uint64_t>(t.offset);
  }
  FRUGAL_RETURN_IF_ERROR(out.Append(b.bytes));
  written_ = b.bytes.size();
  return Pad(out, alignment_);
}

Status GgufWriter::WriteTensorData(WritableFile& out, size_t index, std::span<const std::byte> data) {
  FRUGAL_CHECK_EQ(index, next_tensor_);
  FRUGAL_CHECK_EQ(data.size(), tensors_[index].n_bytes);
  FRUGAL_RETURN_IF_ERROR(out.Append(data));
  written_ += data.size();
  ++next_tensor_;
  return Pad(out, alignment_);
}

Status GgufWriter::Finish() const {
  if (next_tensor_ != tensors_.size()) {
    return MakeStatus(StatusCode::kFailedPrecondition, "gguf writer: {} of {} tensors written",
                      next_tensor_, tensors_.size());
  }
  return OkStatus();
}

}  // namespace frugal::io
