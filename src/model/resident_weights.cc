#include "model/resident_weights.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/panel_rows.h"

namespace frugal::model {
namespace {

// Every view a token reads in full, whatever the layer kind (absent views are empty).
std::vector<ConstTensorView*> EveryTokenViews(Weights* w) {
  std::vector<ConstTensorView*> views = {&w->output};
  for (LayerWeights& l : w->layers) {
    for (ConstTensorView* v : {&l.q_a, &l.q_b, &l.q, &l.kv_a_mqa, &l.k_b, &l.v_b, &l.kv_b, &l.attn_output, &l.ffn_gate,
                               &l.ffn_up, &l.ffn_down, &l.gate_inp, &l.gate_shexp, &l.up_shexp, &l.down_shexp}) {
      if (v->data != nullptr) views.push_back(v);
    }
  }
  return views;
}

// Q8_0 and Q4_K matrices whose products all go through kernels::MatMul (not the attention's split
// k_b/v_b/kv_b, which are transposed and sliced per head, nor the router's exact product) are
// reordered for the panel kernels where those run.
bool ReorderedForPanels(const Weights& w, const ConstTensorView& v) {
  if (!kernels::HasPanelOrder(v.type) || !kernels::PanelRowsUsable() || !kernels::PanelRowsFit(static_cast<int64_t>(v.shape.ne[0]))) {
    return false;
  }
  for (const LayerWeights& l : w.layers) {
    for (const ConstTensorView* skip : {&l.k_b, &l.v_b, &l.kv_b, &l.gate_inp}) {
      if (skip == &v) return false;
    }
  }
  return true;
}

uint64_t Aligned(uint64_t n) { return (n + 63) / 64 * 64; }

// MemAvailable from /proc/meminfo, 0 when unknown.
uint64_t AvailableMemoryBytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string line;
  while (std::getline(meminfo, line)) {
    unsigned long long kib = 0;
    if (std::sscanf(line.c_str(), "MemAvailable: %llu kB", &kib) == 1) return static_cast<uint64_t>(kib) << 10;
  }
  return 0;
}
uint64_t BytesOf(const ConstTensorView& v) { return v.row_bytes() * v.shape.rows(); }

// The routed experts' views (empty ones left out).
std::vector<ConstTensorView*> RoutedExpertViews(Weights* w) {
  std::vector<ConstTensorView*> views;
  for (LayerWeights& l : w->layers) {
    for (ConstTensorView* v : {&l.gate_exps, &l.up_exps, &l.down_exps}) {
      if (v->data != nullptr) views.push_back(v);
    }
  }
  return views;
}

// Copies the views' tensors into one new region (reordered for the panel kernels where
// ReorderedForPanels says so) and points the views there. `what` names them in errors.
StatusOr<HugePageRegion> CopyIntoRegion(const io::GgufFile& file, Weights* w, const std::vector<ConstTensorView*>& views,
                                        uint64_t also_resident, const char* what) {
  uint64_t total = 0;
  for (const ConstTensorView* v : views) total += Aligned(BytesOf(*v));
  if (total == 0) return HugePageRegion();
  // The copies are anonymous memory, which the kernel cannot drop and re-read as it can the
  // file's pages: only when they (with the copies made before) take at most half of what is available.
  if (const uint64_t available = AvailableMemoryBytes(); available > 0 && also_resident + total > available / 2) {
    return ResourceExhausted("{} ({} bytes, with {} copied before) exceed half the available memory ({} bytes)", what, total,
                             also_resident, available);
  }
  FRUGAL_ASSIGN_OR_RETURN(HugePageRegion region, HugePageRegion::Allocate(total));
  const bool drop_source = file.file().MappedFromFile();
  const auto page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const std::span<const std::byte> mapped = file.file().Mapped();
  const auto map_begin = reinterpret_cast<uintptr_t>(mapped.data()), map_end = map_begin + mapped.size();
  std::byte* dst = region.data();
  // Each tensor's rows split among the CPU's threads: first writes to fresh pages (zeroed by the
  // kernel) and the packing cost about equally, and both scale with threads.
  const unsigned threads = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
  for (ConstTensorView* v : views) {
    const uint64_t bytes = BytesOf(*v), rows = v->shape.rows(), row_bytes = v->row_bytes();
    const bool reorder = ReorderedForPanels(*w, *v);
    const auto copy_rows = [&, v, dst](uint64_t begin, uint64_t end) {
      if (reorder) {
        for (uint64_t r = begin; r < end; ++r) {
          kernels::PackPanelRow(v->type, v->data + r * row_bytes, static_cast<int64_t>(v->shape.ne[0]), dst + r * row_bytes);
        }
      } else {
        std::memcpy(dst + begin * row_bytes, v->data + begin * row_bytes, (end - begin) * row_bytes);
      }
    };
    const uint64_t parts = bytes < (uint64_t{4} << 20) ? 1 : std::min<uint64_t>(threads, rows);
    {
      std::vector<std::jthread> helpers;
      for (uint64_t i = 1; i < parts; ++i) {
        try {
          helpers.emplace_back(copy_rows, rows * i / parts, rows * (i + 1) / parts);
        } catch (...) {  // no thread (or no memory for its handle) to be had: this one does the part
          copy_rows(rows * i / parts, rows * (i + 1) / parts);
        }
      }
      copy_rows(0, rows / parts);
    }  // joined
    if (reorder) v->order = RowOrder::kPanels;
    // Drop the source pages wholly inside this tensor from the mapping (they stay in the page
    // cache; nothing here reads them again).
    const auto src = reinterpret_cast<uintptr_t>(v->data);
    const uintptr_t lo = (src + page - 1) / page * page, hi = (src + bytes) / page * page;
    if (drop_source && lo < hi && lo >= map_begin && hi <= map_end) {
      (void)::madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED);
    }
    v->data = dst;
    dst += Aligned(bytes);
  }
  return region;
}

}  // namespace

StatusOr<HugePageRegion> MakeEveryTokenWeightsResident(const io::GgufFile& file, Weights* w) {
  return CopyIntoRegion(file, w, EveryTokenViews(w), 0, "every-token weights");
}

StatusOr<HugePageRegion> MakeRoutedExpertsResident(const io::GgufFile& file, Weights* w, uint64_t also_resident) {
  return CopyIntoRegion(file, w, RoutedExpertViews(w), also_resident, "routed experts");
}

}  // namespace frugal::model
