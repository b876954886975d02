// GGUF metadata values (spec: ggml docs/gguf.md; summary in
// ../shared/reference/ecosystem-and-reliability.md §2.1). Plain value types; thread-compatible.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace frugal::io {

enum class GgufValueType : uint32_t {
  kUint8 = 0,
  kInt8 = 1,
  kUint16 = 2,
  kInt16 = 3,
  kUint32 = 4,
  kInt32 = 5,
  kFloat32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kUint64 = 10,
  kInt64 = 11,
  kFloat64 = 12,
};
inline constexpr uint32_t kGgufValueTypeCount = 13;
std::string_view GgufValueTypeName(GgufValueType type);
bool IsIntegerType(GgufValueType type);
bool IsSignedIntegerType(GgufValueType type);
bool IsFloatType(GgufValueType type);
// Bytes of a fixed-size scalar; 0 for string and array.
uint32_t ScalarBytes(GgufValueType type);

// A scalar: unsigned ints widen to uint64_t, signed to int64_t, floats to double.
using GgufScalar = std::variant<uint64_t, int64_t, double, bool, std::string>;

struct GgufValue {
  GgufValueType type = GgufValueType::kUint8;
  GgufScalar scalar;                         // when type != kArray
  GgufValueType elem_type = GgufValueType::kUint8;  // when type == kArray
  std::vector<GgufScalar> elems;             // array of scalars or strings
  std::vector<GgufValue> nested;             // array of arrays

  static GgufValue Uint32(uint32_t v) { return Scalar(GgufValueType::kUint32, uint64_t{v}); }
  static GgufValue Uint64(uint64_t v) { return Scalar(GgufValueType::kUint64, v); }
  static GgufValue Int32(int32_t v) { return Scalar(GgufValueType::kInt32, int64_t{v}); }
  static GgufValue Float32(float v) { return Scalar(GgufValueType::kFloat32, double{v}); }
  static GgufValue Bool(bool v) { return Scalar(GgufValueType::kBool, v); }
  static GgufValue String(std::string v) { return Scalar(GgufValueType::kString, std::move(v)); }
  static GgufValue StringArray(const std::vector<std::string>& v);
  static GgufValue Int32Array(const std::vector<int32_t>& v);
  static GgufValue Float32Array(const std::vector<float>& v);
  static GgufValue Scalar(GgufValueType type, GgufScalar v);

  uint64_t array_size() const { return elem_type == GgufValueType::kArray ? nested.size() : elems.size(); }
};

// Human-readable rendering, arrays abbreviated after `max_elems` items.
std::string FormatGgufValue(const GgufValue& value, size_t max_elems = 8);

}  // namespace frugal::io
