// A memory estimate printed before training starts: weights, gradients, optimizer
// states and activations of a Llama-family model at a given batch and sequence
// length, so a user sees whether a configuration fits before waiting for an
// out-of-memory error. An estimate, not a measurement: allocator caching, the CUDA
// context and library workspaces are not counted.
//
// Shape legend: B batch, T sequence length, L layers, C hidden size, H attention
// heads, K key/value heads, D head dim, F MLP width, V vocabulary; e bytes per
// activation element (4 fp32, 2 under bf16/fp16 autocast).
//
// Activations are counted from the tensors autograd keeps for the backward pass in
// core/model/llama.cpp (the same kind of count as Korthikanti et al. 2022, "Reducing
// Activation Recomputation in Large Transformer Models", sec. 4.1, which gives
// 34·T·B·C + 5·H·T²·B bytes per GPT layer in fp16 with dropout). Per layer and token:
//   two RMSNorms, each: fp32 input (4C) + normalized (eC) + output (eC)   2(4 + 2e)C
//   q, its rotate-half, the q copy fed to the score matmul, o_proj input   4e·H·D
//   k and its rotate-half                                                  2e·K·D
//   keys and values as the matmuls read them (repeated to H heads if K < H) 2e·(K<H ? H : K)·D
//   gate and up outputs, silu(gate), their product                          4e·F
// plus per layer and sequence the softmax probabilities H·T² in fp32 (4 bytes, and
// another e bytes for their cast copy when e < 4).
// Outside the layers: final norm (4 + 2e)C per token and the loss head 4·4·V per
// token (logits, their fp32 copy, log-softmax output and its gradient), plus the
// backward pass's working set for attention, 2·B·H·T²·4 (gradients of scores and
// probabilities of one layer).
// With gradient checkpointing only each layer's input (eC per token) is kept, plus
// one layer's activations while it is recomputed.
// A full fine-tune keeps every tensor above; with frozen projections a few inputs
// need not be kept, so the figure is then an upper bound.
#pragma once

#include "model/model_config.h"

#include <cstdint>
#include <string>

namespace ft::train {

struct MemoryEstimateInput {
    model::ModelConfig config;
    int64_t trainableParameters = 0;      // count
    int64_t trainableBytesPerParameter = 4;  // fp32 master weights
    int64_t frozenWeightBytes = 0;        // frozen weights as stored (an NF4 base counts its packed bytes)
    int64_t optimizerStatesPerParameter = 2;  // AdamW: exp_avg, exp_avg_sq (same dtype as the parameter)
    int64_t batchSize = 1;
    int64_t seqLen = 512;
    int64_t activationBytes = 4;          // e
    bool gradientCheckpointing = false;
};

struct MemoryEstimate {
    int64_t weights = 0;      // frozen + trainable
    int64_t gradients = 0;    // one per trainable parameter
    int64_t optimizer = 0;    // AdamW states
    int64_t activations = 0;  // kept for backward + the backward working set
    int64_t total = 0;
    // "weights 1.2 GiB + gradients 40.0 MiB + optimizer 80.0 MiB + activations 3.1 GiB = 4.4 GiB"
    std::string summary() const;
};

// Bytes one decoder layer keeps per token, and per sequence for attention (formula above).
int64_t activationBytesPerLayerToken(const model::ModelConfig& c, int64_t activationBytes);
int64_t attentionBytesPerLayerSequence(const model::ModelConfig& c, int64_t seqLen, int64_t activationBytes);

MemoryEstimate estimateTrainingMemory(const MemoryEstimateInput& input);

// "512 B", "3.0 KiB", "1.2 GiB".
std::string formatBytes(int64_t bytes);

} // namespace ft::train
