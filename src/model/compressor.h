// DeepSeek-V4's token compressor (../shared/reference/deepseek-architectures.md §6.3; which
// tokens feed which block as llama.cpp's deepseek4 cache does): every `ratio` tokens become one
// row, a per-channel softmax-weighted sum of the tokens' projected rows kv with weights from
// their scores (W_gate·x + ape[pos % ratio]). Ratio 4 (CSA) overlaps: the projections are
// 2·width wide, and block b pools channels [width, 2·width) of its own 4 tokens together with
// channels [0, width) of block b−1's 4 tokens (one softmax over the 8); block 0 has no
// predecessor. Ratio 128 (HCA) pools its own tokens' width channels. Tokens arrive one at a
// time in position order, over any number of steps: the state keeps the rows the next blocks
// still need (the current partial block and, overlapping, the previous block), so token-by-token
// and whole-sequence runs give the same rows. Per sequence; engine thread.
#pragma once

#include <cstddef>
#include <cstring>
#include <vector>

namespace frugal::model {

class CompressorState {
 public:
  CompressorState() = default;
  CompressorState(int ratio, int width);

  int ratio() const { return ratio_; }
  int width() const { return width_; }
  bool overlaps() const { return ratio_ == 4; }
  // Values per projected row: 2·width overlapping, width otherwise.
  int projected_width() const { return coff_ * width_; }
  size_t bytes() const { return (kv_.size() + score_.size()) * sizeof(float); }
  // The state as bytes() bytes, and back (for snapshots of a sequence's end).
  void Save(std::byte* out) const;
  void Load(const std::byte* in);

  // Takes the token at `pos` (the position after the previous call's), its projected kv and
  // score rows (ape already added); when it completes block pos / ratio, writes the block's
  // pooled row (width values, before norm and RoPE) to *out and returns true.
  bool Push(int pos, const float* kv, const float* score, float* out);

 private:
  int ratio_ = 0, width_ = 0, coff_ = 1, ring_ = 0;
  std::vector<float> kv_, score_;  // [ring_, coff_·width_], slot pos % ring_
};

}  // namespace frugal::model
