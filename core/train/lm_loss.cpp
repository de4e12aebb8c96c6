#include "train/lm_loss.h"

#include <ATen/ATen.h>

namespace ft::train {

at::Tensor causalLmLoss(const at::Tensor& logits, const at::Tensor& labels)
{
    const int64_t t = logits.size(1), v = logits.size(2);
    at::Tensor predicting = logits.narrow(1, 0, t - 1).reshape({-1, v});
    if (predicting.scalar_type() != at::kDouble)
        predicting = predicting.to(at::kFloat);  // (B*(T-1), V)
    at::Tensor targets = labels.narrow(1, 1, t - 1).reshape({-1});                       // (B*(T-1),)
    return at::cross_entropy_loss(predicting, targets, /*weight=*/{}, at::Reduction::Mean, kIgnoreIndex);
}

} // namespace ft::train
