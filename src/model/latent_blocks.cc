#include "model/latent_blocks.h"

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

size_t KvValueBytes(KvDtype dtype) { return dtype == KvDtype::kF32 ? 4 : 2; }

GgmlType GgmlTypeOf(KvDtype dtype) {
  return dtype == KvDtype::kF32 ? GgmlType::kF32 : dtype == KvDtype::kF16 ? GgmlType::kF16 : GgmlType::kBF16;
}

std::byte* LatentBlocks::Row(int layer, int pos) const {
  FRUGAL_CHECK(pos >= 0 && pos < capacity());
  const int b = layout_.block_tokens;
  return blocks_[static_cast<size_t>(pos / b)] + static_cast<size_t>(layer) * layout_.layer_bytes() +
         static_cast<size_t>(pos % b) * layout_.row_bytes();
}

void LatentBlocks::Write(int layer, int pos, const float* row) const {
  std::byte* dst = Row(layer, pos);
  const int width = layout_.width;
  for (int i = 0; i < width; ++i) {
    if (layout_.dtype == KvDtype::kF32) {
      std::memcpy(dst + 4 * i, &row[i], 4);
    } else {
      const uint16_t h = layout_.dtype == KvDtype::kF16 ? F32ToF16(row[i]) : F32ToBf16(row[i]);
      std::memcpy(dst + 2 * i, &h, 2);
    }
  }
}

void LatentBlocks::Read(int layer, int n, float* out) const {
  FRUGAL_CHECK_LE(n, capacity());
  const int width = layout_.width;
  const kernels::HalfToFloatFn half =
      layout_.dtype == KvDtype::kF32 ? nullptr : kernels::HalfToFloatFor(GgmlTypeOf(layout_.dtype), kernels::DetectedIsa());
  ForEachRun(layer, n, [&](const std::byte* rows, int first, int count) {
    float* dst = out + static_cast<size_t>(first) * width;
    const size_t values = static_cast<size_t>(count) * width;
    if (half == nullptr) {
      std::memcpy(dst, rows, values * 4);
    } else {
      half(rows, dst, static_cast<int64_t>(values));
    }
  });
}

}  // namespace frugal::model
