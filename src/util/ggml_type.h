// ggml tensor type ids as stored in GGUF files, and their block geometry
// (../shared/reference/ggml-quant-formats.md). Pure data; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace frugal {

enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
};

inline constexpr uint32_t kGgmlTypeCount = 40;

struct GgmlTypeTraits {
  std::string_view name;    // ggml's lower-case name, e.g. "q4_K"
  uint32_t block_elems = 0; // elements per block
  uint32_t block_bytes = 0; // bytes per block
  bool can_dequantize = false;  // frugal has a dequantizer for it
};

// Traits of a type id read from a file. nullopt for ids ggml never defined or removed
// (4, 5, 31–33, 36–38) and ids >= kGgmlTypeCount.
std::optional<GgmlTypeTraits> TraitsOfTypeId(uint32_t id);
// True for ids that ggml once had and removed (a clearer error than "unknown").
bool IsRemovedTypeId(uint32_t id);
// Traits of a known type (checked).
GgmlTypeTraits TraitsOf(GgmlType type);
std::string_view TypeName(GgmlType type);
// Parses a type name as written on the command line ("q8_0", "Q4_K", "f32", "bf16").
std::optional<GgmlType> TypeFromName(std::string_view name);
// Bytes of a row of n elements; n must be a multiple of the block size (checked).
uint64_t RowBytes(GgmlType type, uint64_t n);

}  // namespace frugal
