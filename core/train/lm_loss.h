// The causal language-modelling loss, Hugging Face style: labels align with the
// inputs and are shifted here, so position t predicts token t+1; label -100 is
// ignored. Shape legend: B batch, T time, V vocabulary.
#pragma once

#include <ATen/core/Tensor.h>

namespace ft::train {

constexpr int64_t kIgnoreIndex = -100;

// logits (B, T, V), labels (B, T) -> scalar mean cross-entropy over predicted tokens.
at::Tensor causalLmLoss(const at::Tensor& logits, const at::Tensor& labels);

} // namespace ft::train
