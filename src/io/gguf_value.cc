#include "io/gguf_value.h"

#include <fmt/format.h>

namespace frugal::io {

std::string_view GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8: return "u8";
    case GgufValueType::kInt8: return "i8";
    case GgufValueType::kUint16: return "u16";
    case GgufValueType::kInt16: return "i16";
    case GgufValueType::kUint32: return "u32";
    case GgufValueType::kInt32: return "i32";
    case GgufValueType::kFloat32: return "f32";
    case GgufValueType::kBool: return "bool";
    case GgufValueType::kString: return "string";
    case GgufValueType::kArray: return "array";
    case GgufValueType::kUint64: return "u64";
    case GgufValueType::kInt64: return "i64";
    case GgufValueType::kFloat64: return "f64";
  }
  return "?";
}

bool IsSignedIntegerType(GgufValueType t) {
  return t == GgufValueType::kInt8 || t == GgufValueType::kInt16 || t == GgufValueType::kInt32 ||
         t == GgufValueType::kInt64;
}
bool IsIntegerType(GgufValueType t) {
  return IsSignedIntegerType(t) || t == GgufValueType::kUint8 || t == GgufValueType::kUint16 ||
         t == GgufValueType::kUint32 || t == GgufValueType::kUint64;
}
bool IsFloatType(GgufValueType t) { return t == GgufValueType::kFloat32 || t == GgufValueType::kFloat64; }

uint32_t ScalarBytes(GgufValueType type) {
  switch (type) {
    case GgufValueType::kUint8:
    case GgufValueType::kInt8:
    case GgufValueType::kBool: return 1;
    case GgufValueType::kUint16:
    case GgufValueType::kInt16: return 2;
    case GgufValueType::kUint32:
    case GgufValueType::kInt32:
    case GgufValueType::kFloat32: return 4;
    case GgufValueType::kUint64:
    case GgufValueType::kInt64:
    case GgufValueType::kFloat64: return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray: return 0;
  }
  return 0;
}

GgufValue GgufValue::Scalar(GgufValueType type, GgufScalar v) {
  GgufValue out;
  out.type = type;
  out.scalar = std::move(v);
  return out;
}

GgufValue GgufValue::StringArray(const std::vector<std::string>& v) {
  GgufValue out;
  out.type = GgufValueType::kArray;
  out.elem_type = GgufValueType::kString;
  out.elems.assign(v.begin(), v.end());
  return out;
}

GgufValue GgufValue::Int32Array(const std::vector<int32_t>& v) {
  GgufValue out;
  out.type = GgufValueType::kArray;
  out.elem_type = GgufValueType::kInt32;
  for (int32_t x : v) out.elems.emplace_back(int64_t{x});
  return out;
}

GgufValue GgufValue::Float32Array(const std::vector<float>& v) {
  GgufValue out;
  out.type = GgufValueType::kArray;
  out.elem_type = GgufValueType::kFloat32;
  for (float x : v) out.elems.emplace_back(double{x});
  return out;
}

namespace {
std::string FormatScalar(const GgufScalar& s) {
  return std::visit(
      [](const auto& v) -> std::string {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          return fmt::format("\"{}\"", v.size() > 60 ? v.substr(0, 60) + "..." : v);
        } else {
          return fmt::format("{}", v);
        }
      },
      s);
}
}  // namespace

std::string FormatGgufValue(const GgufValue& value, size_t max_elems) {
  if (value.type != GgufValueType::kArray) return FormatScalar(value.scalar);
  std::string out = fmt::format("[{} x {}: ", value.array_size(), GgufValueTypeName(value.elem_type));
  for (size_t i = 0; i < value.array_size() && i < max_elems; ++i) {
    if (i) out += ", ";
    out += value.elem_type == GgufValueType::kArray ? FormatGgufValue(value.nested[i], max_elems)
                                                    : FormatScalar(value.elems[i]);
  }
  if (value.array_size() > max_elems) out += ", ...";
  return out + "]";
}

}  // namespace frugal::io
