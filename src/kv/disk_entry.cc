#include "kv/disk_entry.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace frugal::kv {
namespace {

constexpr char kMagic[8] = {'F', 'R', 'U', 'G', 'A', 'L', 'K', 'V'};

struct FixedHeader {
  char magic[8];
  uint32_t version;
  uint32_t header_bytes;
  uint64_t model_fingerprint;
  int32_t dtype, n_layers, width, block_tokens;
  uint64_t parent_key, key;
  uint64_t payload_bytes;
  uint64_t payload_hash;
  uint64_t header_hash;  // of this struct with header_hash = 0, then the token ids
  char reserved[128 - 80];
};
static_assert(sizeof(FixedHeader) == 128);

// Valid bytes, but not the entry asked for.
template <typename... Args>
Status Mismatch(fmt::format_string<Args...> f, Args&&... args) {
  return MakeStatus(StatusCode::kFailedPrecondition, f, std::forward<Args>(args)...);
}

size_t RoundUp(size_t n) { return (n + kDiskPage - 1) / kDiskPage * kDiskPage; }

uint64_t HeaderHash(FixedHeader h, std::span<const std::byte> ids) {
  h.header_hash = 0;
  XXH3_state_t* state = XXH3_createState();
  XXH3_64bits_reset(state);
  XXH3_64bits_update(state, &h, sizeof(h));
  XXH3_64bits_update(state, ids.data(), ids.size());
  const uint64_t v = XXH3_64bits_digest(state);
  XXH3_freeState(state);
  return v;
}

}  // namespace

size_t EntryHeaderBytes(const BlockShape& shape) {
  return RoundUp(sizeof(FixedHeader) + static_cast<size_t>(shape.block_tokens) * sizeof(int32_t));
}

size_t EntryFileBytes(const BlockShape& shape) { return EntryHeaderBytes(shape) + RoundUp(shape.block_bytes()); }

void EncodeEntry(const EntryIdentity& id, std::span<const int32_t> tokens, const std::byte* payload, std::span<std::byte> file) {
  const size_t header_bytes = EntryHeaderBytes(id.shape), payload_bytes = id.shape.block_bytes();
  std::memset(file.data(), 0, header_bytes);
  FixedHeader h{};
  std::memcpy(h.magic, kMagic, sizeof(kMagic));
  h.version = kDiskFormatVersion;
  h.header_bytes = static_cast<uint32_t>(header_bytes);
  h.model_fingerprint = id.model_fingerprint;
  h.dtype = static_cast<int32_t>(id.shape.dtype);
  h.n_layers = id.shape.n_layers;
  h.width = id.shape.width;
  h.block_tokens = id.shape.block_tokens;
  h.parent_key = id.parent_key;
  h.key = id.key;
  h.payload_bytes = payload_bytes;
  h.payload_hash = XXH3_64bits(payload, payload_bytes);
  std::memcpy(file.data() + sizeof(FixedHeader), tokens.data(), tokens.size_bytes());
  h.header_hash = HeaderHash(h, file.subspan(sizeof(FixedHeader), tokens.size_bytes()));
  std::memcpy(file.data(), &h, sizeof(h));
  std::memcpy(file.data() + header_bytes, payload, payload_bytes);
  std::memset(file.data() + header_bytes + payload_bytes, 0, file.size() - header_bytes - payload_bytes);
}

Status CheckEntry(std::span<const std::byte> file, const EntryIdentity& id, std::span<const int32_t> tokens) {
  const size_t want_size = EntryFileBytes(id.shape);
  if (file.size() != want_size) return DataLoss("the entry has {} bytes, not {}", file.size(), want_size);
  FixedHeader h;
  std::memcpy(&h, file.data(), sizeof(h));
  if (std::memcmp(h.magic, kMagic, sizeof(kMagic)) != 0) return DataLoss("not a frugal cache entry (bad magic)");
  if (h.version != kDiskFormatVersion) return Mismatch("format version {}, not {}", h.version, kDiskFormatVersion);
  const size_t header_bytes = EntryHeaderBytes(id.shape);
  if (h.header_bytes != header_bytes || h.block_tokens != id.shape.block_tokens ||
      tokens.size() != static_cast<size_t>(id.shape.block_tokens)) {
    return Mismatch("another block layout ({} tokens a block)", h.block_tokens);
  }
  const std::span<const std::byte> ids = file.subspan(sizeof(FixedHeader), tokens.size_bytes());
  if (HeaderHash(h, ids) != h.header_hash) return DataLoss("the header checksum does not match");
  if (h.model_fingerprint != id.model_fingerprint) return Mismatch("written for another model");
  if (h.dtype != static_cast<int32_t>(id.shape.dtype) || h.n_layers != id.shape.n_layers || h.width != id.shape.width ||
      h.payload_bytes != id.shape.block_bytes()) {
    return Mismatch("another cache type or layout");
  }
  if (h.key != id.key || h.parent_key != id.parent_key) return Mismatch("another place in the prefix chain");
  if (std::memcmp(ids.data(), tokens.data(), tokens.size_bytes()) != 0) return Mismatch("other token ids under the same key");
  if (XXH3_64bits(file.data() + header_bytes, h.payload_bytes) != h.payload_hash) return DataLoss("the payload checksum does not match");
  return OkStatus();
}

}  // namespace frugal::kv
