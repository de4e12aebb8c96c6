// Learning-rate schedules as pure functions of the step, so a resumed run gets
// exactly the rate an uninterrupted one would have had.
#pragma once

#include <cstdint>

namespace ft::train {

// Linear warmup from 0 to peak over `warmup` steps, then cosine decay to
// peak * minRatio at `total`. step counts from 0.
double cosineWithWarmup(int64_t step, int64_t warmup, int64_t total, double peak, double minRatio);

} // namespace ft::train
