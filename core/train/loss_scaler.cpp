#include "train/loss_scaler.h"

#include <ATen/ATen.h>

namespace ft::train {

LossScaler::LossScaler(bool enabled, double initialScale, int interval)
    : m_enabled(enabled), m_scale(initialScale), m_interval(interval) {}

at::Tensor LossScaler::scaled(const at::Tensor& loss) const { return m_enabled ? loss * m_scale : loss; }

bool LossScaler::unscale(const std::vector<at::Tensor>& parameters) const {
    if (!m_enabled)
        return true;
    bool finite = true;
    for (const at::Tensor& p : parameters) {
        at::Tensor g = p.grad();
        if (!g.defined())
            continue;
        g.mul_(1.0 / m_scale);
        finite = finite && g.isfinite().all().item<bool>();
    }
    return finite;
}

void LossScaler::update(bool finite) {
    if (!m_enabled)
        return;
    if (!finite) {
        m_scale *= 0.5;
        m_goodSteps = 0;
    } else if (++m_goodSteps >= m_interval) {
        m_scale *= 2.0;
        m_goodSteps = 0;
    }
}

} // namespace ft::train
