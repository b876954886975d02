// DeepSeek-V3.2's lightning indexer (DeepSeek Sparse Attention) for one layer's step: each new
// token's index key k = LayerNorm(W_k·x) (RoPE on its first rope dims, half-split order) goes to
// its sequence's cache (cache layer n_layers + layer, the first head_dim values of the row);
// each query's heads q_h = W_q_b·c_q (the normed query latent, same RoPE) score every visible
// position j as Σ_h relu(q_h·k_j)·w_h, w = W_proj·x / √(heads·head_dim), and the query attends
// to the top_k positions by score (ties: the lower position; all while no more are visible).
// Written from the numpy reference (tests/reference/forward.py `indexer_selection`, which
// matches llama.cpp's v32-tiny logits); DeepSeek's Hadamard rotation of q and k is orthonormal
// and so left out, as is its FP8 rounding (llama.cpp does not round either). Engine thread.
#pragma once

#include <cstdint>
#include <vector>

#include "model/attention.h"
#include "util/thread_pool.h"

namespace frugal::model {

// One segment's choice: keep[i · n_ctx + j] = 1 where its token i attends to position j
// (n_ctx = pos0 + n); empty when every token attends to every visible position.
struct TokenSelection {
  std::vector<uint8_t> keep;
  int n_ctx = 0;
};

// cos/sin: [n_tokens, rope/2] angles of each step row (RoPE pairs i use angle i).
// cq: [n_tokens, q_lora] normed query latent; xn: [n_tokens, hidden] normed layer input.
std::vector<TokenSelection> RunIndexer(const AttentionInput& in, const float* xn, const float* cq, const float* cos,
                                       const float* sin, ThreadPool& pool);

}  // namespace frugal::model
