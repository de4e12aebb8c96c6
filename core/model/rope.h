// Rotary position embeddings as Hugging Face's Llama computes them: the
// "rotate_half" layout (first half / second half of each head, not interleaved),
// with optional linear, Llama 3 or LongRoPE (Phi-3) frequency scaling and partial rotation.
// Shape legend: B batch, T time, H heads, D head dim.
#pragma once

#include "model/model_config.h"

#include <ATen/core/Tensor.h>

namespace ft::model {

// Inverse frequencies after scaling, (R/2,) fp32 on CPU, R = c.rotaryDim() (the head
// dim unless partial_rotary_factor < 1). longContext picks longrope's long factors.
at::Tensor ropeInverseFrequencies(const ModelConfig& c, bool longContext = false);
// The factor cos and sin are scaled by (longrope's attention factor), 1 otherwise.
double ropeAttentionScaling(const ModelConfig& c);

struct RopeTables {
    at::Tensor cos;  // (B, 1, T, R)
    at::Tensor sin;  // (B, 1, T, R)
};

// positions: (B, T) int64 absolute positions; invFreq on the target device.
RopeTables ropeTables(const at::Tensor& positions, const at::Tensor& invFreq, c10::ScalarType dtype,
                      double scaling = 1.0);

// x: (B, H, T, D) -> x * cos + rotate_half(x) * sin over the first R of D, the rest unchanged
at::Tensor applyRope(const at::Tensor& x, const RopeTables& t);

} // namespace ft::model
