// Gradient (activation) checkpointing: a block's forward runs without keeping its
// intermediate activations; backward runs the block again, with gradient, from its
// saved input and back-propagates through that recomputation. Memory for
// activations falls from every layer's intermediates to one tensor per layer, at
// the cost of a second forward of each block. The random state (dropout in LoRA
// and adapters) is saved at the forward and restored for the recomputation, so the
// gradients equal those of the plain forward exactly.
// Not here: which blocks are checkpointed (llama.cpp: each decoder layer, when the
// model is training with gradient on and no KV cache).
#pragma once

#include <ATen/core/Tensor.h>

#include <functional>

namespace ft::model {

using BlockFunction = std::function<at::Tensor(const at::Tensor&)>;

// y = block(x), with x's activations recomputed in backward instead of kept.
// `block` must be a pure function of x and of module parameters (it is called twice);
// everything else it reads (masks, RoPE tables) must not change before backward.
at::Tensor checkpointed(const BlockFunction& block, const at::Tensor& x);

// Where this thread is: inside a block's first pass (run without gradient), or inside
// its recomputation in backward.
bool inCheckpointFirstPass();
bool inCheckpointRecompute();
// During a recomputation, a scalar the block wants differentiated too (the share of a
// loss that needs values only the recomputation has with gradient: a router's
// load-balancing term); backward adds its gradient to the block's.
void addCheckpointLoss(const at::Tensor& scalar);

} // namespace ft::model
