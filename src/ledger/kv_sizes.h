// KV-cache bytes per token (all layers) of a model under the caches engines use, and per
// sequence. Formulas: ../shared/reference/deepseek-architectures.md §1.5 (MHA, GQA, MLA, the
// FlashMLA FP8 latent of 656 B), §4.3 (V3.2's indexer keys) and §6.4 (V4: 584-B FP8 rows, 68-B
// FP4 index keys, compression ratios 4 and 128, a 128-token window). Pure functions.
#pragma once

#include <cstdint>

#include "ledger/model_spec.h"

namespace frugal::ledger {

struct KvPerToken {
  double native = 0;    // the model's own cache at 16 bits (the MLA latent for V2/V3; V4's compressed rows)
  double mha = 0;       // a full multi-head cache of the same heads and dims at 16 bits
  double gqa8 = 0;      // grouped-query with 8 KV heads of the same dims, 16 bits
  double deployed = 0;  // the 8-bit formats DeepSeek serves (FlashMLA FP8 latent; V4 FP8 rows + FP4 index keys)
  // Per sequence, whatever its length (V4's sliding windows: window × layers rows).
  double native_per_sequence = 0, deployed_per_sequence = 0;
};

KvPerToken KvBytesPerToken(const ModelSpec& spec);

// Bytes of one sequence of `tokens` (compressed caches count whole compressed rows).
struct KvPerSequence {
  double native = 0, mha = 0, deployed = 0;
};
KvPerSequence KvBytesPerSequence(const ModelSpec& spec, int64_t tokens);

}  // namespace frugal::ledger
