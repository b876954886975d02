// The MLA KV cache: per token per layer only the normalized latent (kv_lora_rank values) and the
// roped shared key (qk_rope_head_dim values) — 576 values for V3 — never per-head K/V.
// Contiguous per sequence for now; the paged block pool (src/kv/) will implement the same
// interface. Thread-compatible; distinct (layer, position) rows may be written concurrently.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "kernels/matmul.h"
#include "util/status.h"

namespace frugal::model {

enum class KvDtype { kF32, kF16, kBF16 };
const char* KvDtypeName(KvDtype dtype);
StatusOr<KvDtype> KvDtypeFromName(const std::string& name);

class LatentCache {
 public:
  LatentCache(int n_layers, int capacity, int width, KvDtype dtype);

  int capacity() const { return capacity_; }
  int width() const { return width_; }
  KvDtype dtype() const { return dtype_; }
  // Bytes of the cache storage: layers × capacity × width × bytes per value.
  size_t bytes() const { return data_.size(); }

  // Stores `width` values at (layer, pos), rounding to the cache dtype.
  void Write(int layer, int pos, const float* row);
  // Reads positions [begin, begin + n) of a layer into out [n, width].
  void Read(int layer, int begin, int n, float* out) const;
  // The stored rows themselves, for kernels that read the cache type directly: positions
  // [0, n) of a layer as product weights (row stride width·bytes per value).
  kernels::WeightRows Rows(int layer, int n) const;

 private:
  size_t Offset(int layer, int pos) const;

  int n_layers_, capacity_, width_;
  KvDtype dtype_;
  size_t value_bytes_;
  std::vector<std::byte> data_;
};

}  // namespace frugal::model
