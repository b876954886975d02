#include "model/compressor.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace frugal::model {

CompressorState::CompressorState(int ratio, int width)
    : ratio_(ratio), width_(width), coff_(ratio == 4 ? 2 : 1), ring_(ratio == 4 ? 2 * ratio : ratio),
      kv_(static_cast<size_t>(ring_) * coff_ * width), score_(static_cast<size_t>(ring_) * coff_ * width) {}

void CompressorState::Save(std::byte* out) const {
  if (kv_.empty()) return;  // no compressor (a window-only layer)
  std::memcpy(out, kv_.data(), kv_.size() * sizeof(float));
  std::memcpy(out + kv_.size() * sizeof(float), score_.data(), score_.size() * sizeof(float));
}

void CompressorState::Load(const std::byte* in) {
  if (kv_.empty()) return;
  std::memcpy(kv_.data(), in, kv_.size() * sizeof(float));
  std::memcpy(score_.data(), in + kv_.size() * sizeof(float), score_.size() * sizeof(float));
}

bool CompressorState::Push(int pos, const float* kv, const float* score, float* out) {
  const size_t pw = static_cast<size_t>(coff_) * width_;
  const size_t slot = static_cast<size_t>(pos % ring_);
  std::copy(kv, kv + pw, kv_.begin() + static_cast<long>(slot * pw));
  std::copy(score, score + pw, score_.begin() + static_cast<long>(slot * pw));
  if ((pos + 1) % ratio_ != 0) return false;
  const int start = pos + 1 - ratio_;  // the block's first position
  // The entries pooled per channel: (position, channel offset) pairs.
  struct Source {
    int pos;
    size_t offset;
  };
  std::vector<Source> sources;
  if (overlaps()) {
    if (start > 0) {
      for (int j = 0; j < ratio_; ++j) sources.push_back({start - ratio_ + j, 0});
    }
    for (int j = 0; j < ratio_; ++j) sources.push_back({start + j, static_cast<size_t>(width_)});
  } else {
    for (int j = 0; j < ratio_; ++j) sources.push_back({start + j, 0});
  }
  for (int c = 0; c < width_; ++c) {
    float mx = -std::numeric_limits<float>::infinity();
    for (const Source& s : sources) mx = std::max(mx, score_[static_cast<size_t>(s.pos % ring_) * pw + s.offset + c]);
    double sum = 0, acc = 0;
    for (const Source& s : sources) {
      const size_t i = static_cast<size_t>(s.pos % ring_) * pw + s.offset + c;
      const double e = std::exp(static_cast<double>(score_[i]) - mx);
      sum += e;
      acc += e * kv_[i];
    }
    out[c] = static_cast<float>(acc / sum);
  }
  return true;
}

}  // namespace frugal::model
