// Rotary position embeddings as Hugging Face's Llama computes them: the
// "rotate_half" layout (first half / second half of each head, not interleaved),
// with optional linear or Llama 3 frequency scaling.
// Shape legend: B batch, T time, H heads, D head dim.
#pragma once

#include "model/model_config.h"

#include <ATen/core/Tensor.h>

namespace ft::model {

// Inverse frequencies after scaling, (D/2,) fp32 on CPU.
at::Tensor ropeInverseFrequencies(const ModelConfig& c);

struct RopeTables {
    at::Tensor cos;  // (B, 1, T, D)
    at::Tensor sin;  // (B, 1, T, D)
};

// positions: (B, T) int64 absolute positions; invFreq on the target device.
RopeTables ropeTables(const at::Tensor& positions, const at::Tensor& invFreq, c10::ScalarType dtype);

// x: (B, H, T, D) -> x * cos + rotate_half(x) * sin
at::Tensor applyRope(const at::Tensor& x, const RopeTables& t);

} // namespace ft::model
