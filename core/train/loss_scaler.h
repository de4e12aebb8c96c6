// Dynamic loss scaling for fp16 training (as torch.cuda.amp.GradScaler): the loss is
// multiplied by a large scale before backward so small fp16 gradients do not flush to
// zero; gradients are divided by it again before clipping; a step whose gradients are
// not finite is skipped and the scale halved; after `interval` good steps it doubles.
// Disabled (scale 1, never skips) for fp32 and bf16. Not here: autocast (model/autocast.h).
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

namespace ft::train {

class LossScaler {
public:
    explicit LossScaler(bool enabled, double initialScale = 65536.0, int interval = 2000);

    bool enabled() const { return m_enabled; }
    double scale() const { return m_enabled ? m_scale : 1.0; }
    at::Tensor scaled(const at::Tensor& loss) const;
    // Divides every gradient by the scale; false when any gradient is inf or NaN.
    bool unscale(const std::vector<at::Tensor>& parameters) const;
    // After a step: halves the scale when the gradients were not finite, doubles it
    // after `interval` finite steps in a row.
    void update(bool finite);

private:
    bool m_enabled;
    double m_scale;
    int m_interval;
    int m_goodSteps = 0;
};

} // namespace ft::train
