#include "train/schedule.h"

#include <algorithm>
#include <cmath>

namespace ft::train {

double cosineWithWarmup(int64_t step, int64_t warmup, int64_t total, double peak, double minRatio)
{
    if (warmup > 0 && step < warmup)
        return peak * double(step + 1) / double(warmup);
    const double span = std::max<int64_t>(1, total - warmup);
    const double progress = std::clamp(double(step - warmup) / span, 0.0, 1.0);
    const double cosine = 0.5 * (1.0 + std::cos(M_PI * progress));
    return peak * (minRatio + (1.0 - minRatio) * cosine);
}

} // namespace ft::train
