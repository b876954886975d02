// The on-disk form of one prefix-cache block (format version 1): a header page, then the
// block's latents. Little-endian, as written by x86-64.
//
//   [0, 128)            header: magic "FRUGALKV", format version, header bytes, model
//                       fingerprint, cache dtype, layers, width, block tokens, parent key, key,
//                       payload bytes, XXH3-64 of the payload, XXH3-64 of the header and ids
//   [128, 128 + 4·B)    the block's B token ids
//   zero padding to a multiple of 4,096 (header_bytes)
//   [header_bytes, …)   the payload: [layer][slot][width] values, as in a RAM block
//   zero padding to a multiple of 4,096 (so the whole file reads with direct I/O)
//
// CheckEntry accepts a file only if every field equals what the reader expects and both
// checksums hold; anything else (truncated, flipped, another model, dtype, layout or version,
// other ids under the same key) is an error, and the caller treats it as a miss. Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "kv/block_pool.h"
#include "util/status.h"

namespace frugal::kv {

inline constexpr uint32_t kDiskFormatVersion = 1;
inline constexpr size_t kDiskPage = 4096;

// What identifies a block's entry: the cache it belongs to and its place in the hash chain.
struct EntryIdentity {
  uint64_t model_fingerprint = 0;
  BlockShape shape;
  uint64_t parent_key = 0;
  uint64_t key = 0;
};

// Header page(s): the fixed fields and the token ids, padded to whole pages.
size_t EntryHeaderBytes(const BlockShape& shape);
// The whole file: header pages plus the payload padded to whole pages.
size_t EntryFileBytes(const BlockShape& shape);

// Writes the entry of `payload` (shape.block_bytes()) into `file` (EntryFileBytes, zero-padded).
void EncodeEntry(const EntryIdentity& id, std::span<const int32_t> tokens, const std::byte* payload, std::span<std::byte> file);
// OK if `file` is exactly the entry of `id` with `tokens`; the payload then starts at
// EntryHeaderBytes. Errors name the first thing that does not match.
Status CheckEntry(std::span<const std::byte> file, const EntryIdentity& id, std::span<const int32_t> tokens);

}  // namespace frugal::kv
