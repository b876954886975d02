#include "kv/sequence_cache.h"

namespace frugal::kv {

BlockShape ShapeFor(const model::ModelConfig& config, model::KvDtype dtype, int block_tokens) {
  if (config.is_v4()) {
    const model::V4Shape v4 = model::V4ShapeOf(config);
    const int b = model::V4BlockTokens(v4, block_tokens);
    return {.n_layers = config.n_layers, .width = 0, .block_tokens = b, .dtype = dtype, .v4 = v4,
            .v4_block_bytes = model::V4BlockLayout::For(v4, dtype, b).block_bytes};
  }
  return {.n_layers = config.cache_layers(), .width = config.mla.latent_width(), .block_tokens = block_tokens, .dtype = dtype, .v4 = {},
          .v4_block_bytes = 0};
}

uint64_t SnapshotBlocks(const BlockShape& shape) {
  if (!shape.v4) return 0;
  const uint64_t image = model::V4Tail(*shape.v4).image_bytes();
  return (image + shape.block_bytes() - 1) / shape.block_bytes();
}

StatusOr<std::unique_ptr<SequenceCache>> SequenceCache::Create(const model::ModelConfig& config, int capacity,
                                                               model::KvDtype dtype, int block_tokens) {
  if (capacity < 1) return InvalidArgument("a cache of {} positions", capacity);
  const BlockShape shape = ShapeFor(config, dtype, block_tokens);
  const uint64_t b = static_cast<uint64_t>(shape.block_tokens);
  const uint64_t blocks = (static_cast<uint64_t>(capacity) + b - 1) / b;
  auto c = std::unique_ptr<SequenceCache>(new SequenceCache());
  FRUGAL_ASSIGN_OR_RETURN(c->pool_, BlockPool::Create(shape, blocks * shape.block_bytes()));
  c->sequence_ = std::make_unique<SequenceKv>(*c->pool_, 0);
  FRUGAL_RETURN_IF_ERROR(c->sequence_->Reserve(capacity));
  return c;
}

}  // namespace frugal::kv
