// Learning-rate schedules as pure functions of the step, so a resumed run gets
// exactly the rate an uninterrupted one would have had.
// Not an optimizer wrapper: the caller computes the rate and sets it
// (optimizer.h: setLearningRate) before each update.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ft::train {

// The fine-tuning schedules, following Hugging Face transformers' optimization.py
// (get_constant_schedule_with_warmup, get_linear_schedule_with_warmup,
// get_cosine_schedule_with_warmup / get_cosine_with_min_lr_schedule_with_warmup).
//
// `step` is the number of optimizer updates already made (0 for the first update),
// exactly what HF's LambdaLR passes as current_step, so the rate used for update
// s (0-based) is peak * m(s) with, for W = warmupSteps, N = totalSteps, r = minLrRatio:
//   warmup (s < W):  m = s / W               (the first update runs at rate 0, as in HF)
//   constant:        m = 1
//   linear:          m = r + (1 - r) * max(0, (N - s) / max(1, N - W))
//   cosine:          m = r + (1 - r) * 0.5 * (1 + cos(pi * p)),  p = (s - W) / max(1, N - W)
// With r = 0 these are HF's formulas exactly. Two deliberate differences: HF's linear
// schedule has no floor (r extends it the way HF's cosine_with_min_lr does), and past
// N HF's half-cosine turns back up; here p is clamped to 1 so the rate stays at r.
struct ScheduleSettings {
    std::string name = "cosine";  // "constant", "linear" or "cosine"
    int64_t warmupSteps = 0;
    double minLrRatio = 0;        // floor as a fraction of the peak (linear and cosine)
};

// The names accepted in ScheduleSettings::name, for validation messages.
const std::vector<std::string>& scheduleNames();

// Throws ft::Error naming the field when the name is unknown, warmupSteps < 0
// or minLrRatio is outside [0, 1].
void validateSchedule(const ScheduleSettings& s);

// The rate for update `step` (0-based) of `totalSteps`; see the formulas above.
double learningRate(const ScheduleSettings& s, int64_t step, int64_t totalSteps, double peak);

// Pretraining's schedule (core/train/pretrain.cpp): linear warmup that reaches the
// peak at the end of warmup ((step + 1) / warmup), then cosine decay to
// peak * minRatio at `total`. step counts from 0. Kept as it is so the embedded
// base model trains as before; fine-tuning uses learningRate().
double cosineWithWarmup(int64_t step, int64_t warmup, int64_t total, double peak, double minRatio);

} // namespace ft::train
