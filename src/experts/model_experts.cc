#include "experts/model_experts.h"

#include <sys/mman.h>
#include <unistd.h>

#include "model/tensor_layout.h"

namespace frugal::experts {

StatusOr<ExpertLayout> ExpertLayoutOf(const io::GgufFile& file, const model::ModelConfig& c) {
  ExpertLayout layout;
  layout.layers.resize(static_cast<size_t>(c.n_layers));
  layout.n_experts_used = c.moe.n_experts_used;
  layout.file_size = file.file_size();
  for (int l = 0; l < c.n_layers; ++l) {
    if (!c.IsMoeLayer(l)) continue;
    LayerExperts& le = layout.layers[static_cast<size_t>(l)];
    le.n_experts = c.moe.n_experts;
    const char* names[3] = {"ffn_gate_exps", "ffn_up_exps", "ffn_down_exps"};
    for (size_t p = 0; p < 3; ++p) {
      const std::string name = model::LayerTensorName(l, names[p]);
      const io::GgufTensorInfo* t = file.FindTensor(name);
      if (t == nullptr) return DataLoss("tensor '{}' is missing", name);
      if (t->shape.ne[2] != static_cast<uint64_t>(c.moe.n_experts) || t->n_bytes % static_cast<uint64_t>(c.moe.n_experts) != 0) {
        return DataLoss("tensor '{}' does not hold {} experts of equal size", name, c.moe.n_experts);
      }
      le.parts[p] = {.file_offset = t->file_offset, .bytes = t->n_bytes / static_cast<uint64_t>(c.moe.n_experts), .type = t->type,
                     .rows = static_cast<int64_t>(t->shape.ne[1]), .cols = static_cast<int64_t>(t->shape.ne[0])};
    }
  }
  return layout;
}

StatusOr<ExpertStore*> AttachExpertStore(model::LoadedModel* m, const ExpertStoreOptions& options) {
  FRUGAL_ASSIGN_OR_RETURN(ExpertLayout layout, ExpertLayoutOf(m->file, m->config));
  FRUGAL_ASSIGN_OR_RETURN(auto file, io::OpenDirectFile(m->file.name()));
  if (file->Size() != m->file.file_size()) return DataLoss("'{}' changed size since it was loaded", m->file.name());
  const std::span<const std::byte> mapped = m->file.file().Mapped();
  if (m->file.file().MappedFromFile() && !mapped.empty()) {  // drop any expert pages the mapping holds
    const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    for (const LayerExperts& le : layout.layers) {
      for (const SliceShape& p : le.parts) {
        if (le.n_experts == 0) continue;
        const auto begin = reinterpret_cast<uintptr_t>(mapped.data()) + p.file_offset;
        const uintptr_t lo = (begin + page - 1) / page * page, hi = (begin + p.bytes * static_cast<uint64_t>(le.n_experts)) / page * page;
        if (lo < hi) (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
      }
    }
  }
  FRUGAL_ASSIGN_OR_RETURN(std::unique_ptr<ExpertStore> store, ExpertStore::Create(std::move(layout), std::move(file), options));
  ExpertStore* raw = store.get();
  m->expert_store = std::move(store);
  return raw;
}

}  // namespace frugal::experts
