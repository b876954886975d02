// The weights every token reads (attention, dense FFNs, routers, shared experts, the output
// head) copied out of the file's 4 KiB page-cache mapping into one huge-page region at load
// (HugePageRegion): decode streams them with one TLB entry per 2 MiB. The routed experts go
// into a second region the same way where no expert store reads them (LoadOptions). Q8_0 and
// Q4_K matrices are reordered for the panel kernels where those run (panel_rows.h; every value
// kept). The token embedding (one row per token) stays in the mapping. The copied ranges are
// dropped from this process's mapping afterwards (file mappings only), so resident memory counts
// them once. Not done (ResourceExhausted, views unchanged) when the copies, with those made
// before, would take more than half of MemAvailable: anonymous memory cannot be evicted and
// re-read as file pages can.
#pragma once

#include "io/gguf_file.h"
#include "model/weights.h"
#include "util/huge_page_region.h"

namespace frugal::model {

// Copies those tensors of `w` into a new region and points their views at the copies.
StatusOr<HugePageRegion> MakeEveryTokenWeightsResident(const io::GgufFile& file, Weights* w);
// The same for the routed experts; `also_resident`: bytes copied before (the every-token weights).
StatusOr<HugePageRegion> MakeRoutedExpertsResident(const io::GgufFile& file, Weights* w, uint64_t also_resident);

}  // namespace frugal::model
