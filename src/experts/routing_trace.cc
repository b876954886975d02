#include "experts/routing_trace.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace frugal::experts {

StatusOr<std::unique_ptr<RoutingTraceWriter>> RoutingTraceWriter::Open(const std::string& path, const TraceShape& shape) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) return IoError("cannot create routing trace '{}': {}", path, std::strerror(errno));
  std::string header = fmt::format("# frugal routing trace v1\nlayers {} experts {} top_k {}\nexpert_bytes", shape.n_layers,
                                   shape.n_experts, shape.top_k);
  for (uint64_t b : shape.expert_bytes) header += fmt::format(" {}", b);
  header += "\n";
  std::fputs(header.c_str(), f);
  return std::unique_ptr<RoutingTraceWriter>(new RoutingTraceWriter(f, path));
}

RoutingTraceWriter::~RoutingTraceWriter() {
  if (f_ != nullptr) std::fclose(f_);
}

void RoutingTraceWriter::Record(int layer, int token, std::span<const int> experts) {
  if (f_ == nullptr) return;
  std::string line = fmt::format("{} {} {}", std::max<int64_t>(step_, 0), layer, token);
  for (int e : experts) line += fmt::format(" {}", e);
  line += "\n";
  std::fputs(line.c_str(), f_);
}

Status RoutingTraceWriter::Close() {
  if (f_ == nullptr) return OkStatus();
  const bool failed = std::ferror(f_) != 0;
  const int closed = std::fclose(f_);
  f_ = nullptr;
  if (failed || closed != 0) return IoError("writing routing trace '{}' failed (disk full?)", path_);
  return OkStatus();
}

StatusOr<RoutingTrace> ReadRoutingTrace(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot open routing trace '{}'", path);
  RoutingTrace t;
  std::string line;
  int64_t line_no = 0;
  auto bad = [&](const std::string& why) { return DataLoss("routing trace '{}' line {}: {}", path, line_no, why); };
  if (!std::getline(in, line) || line != "# frugal routing trace v1") {
    ++line_no;
    return bad("not a frugal routing trace (the first line must be '# frugal routing trace v1')");
  }
  ++line_no;
  {
    ++line_no;
    std::string w1, w2, w3;
    if (!std::getline(in, line)) return bad("missing the shape line");
    std::istringstream s(line);
    if (!(s >> w1 >> t.shape.n_layers >> w2 >> t.shape.n_experts >> w3 >> t.shape.top_k) || w1 != "layers" || w2 != "experts" ||
        w3 != "top_k" || t.shape.n_layers <= 0 || t.shape.n_layers > 4096 || t.shape.n_experts <= 0 ||
        t.shape.n_experts > 65536 || int64_t{t.shape.n_layers} * t.shape.n_experts > (1 << 22) || t.shape.top_k <= 0 ||
        t.shape.top_k > t.shape.n_experts) {
      return bad("expected 'layers N experts E top_k K'");
    }
  }
  {
    ++line_no;
    if (!std::getline(in, line)) return bad("missing the expert_bytes line");
    std::istringstream s(line);
    std::string w;
    s >> w;
    uint64_t b;
    while (s >> b) t.shape.expert_bytes.push_back(b);
    if (w != "expert_bytes" || static_cast<int>(t.shape.expert_bytes.size()) != t.shape.n_layers) {
      return bad(fmt::format("expected 'expert_bytes' and {} sizes", t.shape.n_layers));
    }
    for (uint64_t size : t.shape.expert_bytes) {
      if (size > (uint64_t{1} << 36)) return bad("an expert size over 64 GiB");  // keeps totals from overflowing
    }
  }
  TraceGroup* group = nullptr;
  std::vector<int> ids;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream s(line);
    int64_t step;
    int layer, token;
    if (!(s >> step >> layer >> token) || step < 0 || token < 0) return bad("expected 'step layer token experts…'");
    if (layer < 0 || layer >= t.shape.n_layers || t.shape.expert_bytes[static_cast<size_t>(layer)] == 0) {
      return bad(fmt::format("layer {} has no routed experts", layer));
    }
    ids.clear();
    int e;
    while (s >> e) {
      if (e < 0 || e >= t.shape.n_experts) return bad(fmt::format("expert {} is outside 0..{}", e, t.shape.n_experts - 1));
      ids.push_back(e);
    }
    if (!s.eof() || ids.empty()) return bad("expected 'step layer token experts…'");
    if (group == nullptr || group->step != step || group->layer != layer) {
      if (group != nullptr && step < group->step) return bad("steps go backwards");
      t.groups.push_back({step, layer, {}});
      group = &t.groups.back();
    }
    group->experts.insert(group->experts.end(), ids.begin(), ids.end());
    ++t.records;
  }
  for (TraceGroup& g : t.groups) {
    std::sort(g.experts.begin(), g.experts.end());
    g.experts.erase(std::unique(g.experts.begin(), g.experts.end()), g.experts.end());
  }
  return t;
}

}  // namespace frugal::experts
