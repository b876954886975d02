#include "experts/expert_profile.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "io/file.h"

namespace frugal::experts {

ExpertProfile::ExpertProfile(int n_layers, int n_experts)
    : n_layers_(n_layers), n_experts_(n_experts), counts_(static_cast<size_t>(n_layers) * static_cast<size_t>(n_experts)) {}

void ExpertProfile::Record(int layer, int, std::span<const int> experts) {
  if (layer < 0 || layer >= n_layers_) return;
  for (int e : experts) {
    if (e >= 0 && e < n_experts_) ++counts_[Index(layer, e)];
  }
}

std::vector<ExpertKey> ExpertProfile::Hottest() const {
  std::vector<ExpertKey> keys;
  for (int l = 0; l < n_layers_; ++l) {
    for (int e = 0; e < n_experts_; ++e) {
      if (count(l, e) > 0) keys.push_back({l, e});
    }
  }
  std::stable_sort(keys.begin(), keys.end(), [this](const ExpertKey& a, const ExpertKey& b) { return count(a.layer, a.id) > count(b.layer, b.id); });
  return keys;
}

Status ExpertProfile::Write(const std::string& path) const {
  std::string text = fmt::format("# frugal expert profile v1\nlayers {} experts {}\n", n_layers_, n_experts_);
  for (int l = 0; l < n_layers_; ++l) {
    for (int e = 0; e < n_experts_; ++e) {
      if (count(l, e) > 0) text += fmt::format("{} {} {}\n", l, e, count(l, e));
    }
  }
  FRUGAL_ASSIGN_OR_RETURN(auto f, io::OpenAtomicWritableFile(path));
  FRUGAL_RETURN_IF_ERROR(f->Append(std::as_bytes(std::span(text.data(), text.size()))));
  return f->Close();
}

StatusOr<ExpertProfile> ReadExpertProfile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return IoError("cannot open expert profile '{}'", path);
  std::string line, w1, w2;
  int64_t line_no = 1;
  auto bad = [&](const std::string& why) { return DataLoss("expert profile '{}' line {}: {}", path, line_no, why); };
  if (!std::getline(in, line) || line != "# frugal expert profile v1") return bad("not a frugal expert profile");
  ++line_no;
  int n_layers = 0, n_experts = 0;
  if (!std::getline(in, line)) return bad("missing 'layers N experts E'");
  std::istringstream shape(line);
  if (!(shape >> w1 >> n_layers >> w2 >> n_experts) || w1 != "layers" || w2 != "experts" || n_layers <= 0 || n_layers > 4096 ||
      n_experts <= 0 || n_experts > 65536 || int64_t{n_layers} * n_experts > (1 << 22)) {
    return bad("expected 'layers N experts E'");
  }
  ExpertProfile p(n_layers, n_experts);
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::istringstream s(line);
    int layer, id;
    uint64_t count;
    std::string rest;
    if (!(s >> layer >> id >> count) || (s >> rest) || layer < 0 || layer >= n_layers || id < 0 || id >= n_experts) {
      return bad("expected 'layer id count' within the shape");
    }
    p.counts_[p.Index(layer, id)] = count;
  }
  return p;
}

}  // namespace frugal::experts
