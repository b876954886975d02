#include "model/latent_cache.h"

#include <cstring>

#include "kernels/float_dot.h"
#include "util/check.h"
#include "util/half.h"

namespace frugal::model {

const char* KvDtypeName(KvDtype dtype) {
  switch (dtype) {
    case KvDtype::kF32: return "f32";
    case KvDtype::kF16: return "f16";
    case KvDtype::kBF16: return "bf16";
  }
  return "?";
}

StatusOr<KvDtype> KvDtypeFromName(const std::string& name) {
  if (name == "f32") return KvDtype::kF32;
  if (name == "f16") return KvDtype::kF16;
  if (name == "bf16") return KvDtype::kBF16;
  return InvalidArgument("unknown KV cache type '{}' (choose f16, bf16 or f32)", name);
}

LatentCache::LatentCache(int n_layers, int capacity, int width, KvDtype dtype)
    : n_layers_(n_layers), capacity_(capacity), width_(width), dtype_(dtype),
      value_bytes_(dtype == KvDtype::kF32 ? 4 : 2),
      data_(static_cast<size_t>(n_layers) * static_cast<size_t>(capacity) * static_cast<size_t>(width) * value_bytes_) {}

size_t LatentCache::Offset(int layer, int pos) const {
  FRUGAL_CHECK(layer >= 0 && layer < n_layers_);
  FRUGAL_CHECK(pos >= 0 && pos < capacity_);
  return ((static_cast<size_t>(layer) * capacity_) + static_cast<size_t>(pos)) * width_ * value_bytes_;
}

void LatentCache::Write(int layer, int pos, const float* row) {
  std::byte* dst = data_.data() + Offset(layer, pos);
  for (int i = 0; i < width_; ++i) {
    if (dtype_ == KvDtype::kF32) {
      std::memcpy(dst + 4 * i, &row[i], 4);
    } else {
      const uint16_t h = dtype_ == KvDtype::kF16 ? F32ToF16(row[i]) : F32ToBf16(row[i]);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  }
}

void LatentCache::Read(int layer, int begin, int n, float* out) const {
  if (n == 0) return;
  FRUGAL_CHECK_LE(begin + n, capacity_);
  const std::byte* src = data_.data() + Offset(layer, begin);
  const size_t count = static_cast<size_t>(n) * width_;
  if (dtype_ == KvDtype::kF32) {
    std::memcpy(out, src, count * 4);
    return;
  }
  kernels::HalfToFloatFor(dtype_ == KvDtype::kF16 ? GgmlType::kF16 : GgmlType::kBF16, kernels::DetectedIsa())(
      src, out, static_cast<int64_t>(count));
}

kernels::WeightRows LatentCache::Rows(int layer, int n) const {
  FRUGAL_CHECK_LE(n, capacity_);
  const GgmlType type = dtype_ == KvDtype::kF32 ? GgmlType::kF32 : dtype_ == KvDtype::kF16 ? GgmlType::kF16 : GgmlType::kBF16;
  kernels::WeightRows rows{data_.data() + Offset(layer, 0), type, width_, n};
  rows.stride_bytes = static_cast<uint64_t>(width_) * value_bytes_;
  return rows;
}

}  // namespace frugal::model
