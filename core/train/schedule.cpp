#include "train/schedule.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>

namespace ft::train {

const std::vector<std::string>& scheduleNames()
{
    static const std::vector<std::string> names = {"constant", "linear", "cosine"};
    return names;
}

void validateSchedule(const ScheduleSettings& s)
{
    const auto& names = scheduleNames();
    if (std::find(names.begin(), names.end(), s.name) == names.end())
        fail("unknown learning-rate schedule '" + s.name + "'; use one of constant, linear, cosine");
    if (s.warmupSteps < 0)
        fail("warmup steps must be >= 0 (got " + std::to_string(s.warmupSteps) + ")");
    if (!(s.minLrRatio >= 0.0 && s.minLrRatio <= 1.0))
        fail("min_lr_ratio must lie in [0, 1] (got " + std::to_string(s.minLrRatio) + ")");
}

double learningRate(const ScheduleSettings& s, int64_t step, int64_t totalSteps, double peak)
{
    const int64_t warmup = s.warmupSteps;
    if (step < warmup)
        return peak * double(step) / double(std::max<int64_t>(1, warmup));
    if (s.name == "constant")
        return peak;
    const double span = double(std::max<int64_t>(1, totalSteps - warmup));
    const double r = s.minLrRatio;
    if (s.name == "linear") {
        const double remaining = std::max(0.0, double(totalSteps - step) / span);
        return peak * (r + (1.0 - r) * remaining);
    }
    if (s.name == "cosine") {
        const double progress = std::min(1.0, double(step - warmup) / span);
        return peak * (r + (1.0 - r) * 0.5 * (1.0 + std::cos(M_PI * progress)));
    }
    validateSchedule(s);  // throws with the list of names
    return peak;
}

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
