// Win rates from blind A/B votes (the Compare page): per model over all the votes it
// took part in, and per pair of models, with a 95% Wilson score interval. Pure
// functions; Qt-free and torch-free. Not here: storing votes (data/project_store.h),
// showing them (ui/compare/).
//
// Counting. A vote names two models (modelA, modelB) and a winner "a", "b" or "tie".
// For one model with w wins, l losses and t ties over n = w + l + t votes, a tie
// counts as half a win:
//     rate p = (w + t/2) / n
// A vote of a model against itself carries no information and is ignored.
//
// Wilson score interval (z = 1.959963984540054 for 95%) of s successes in n trials,
// with p = s / n:
//     center = (p + z^2 / (2n)) / (1 + z^2 / n)
//     half   = z / (1 + z^2 / n) * sqrt(p (1 - p) / n + z^2 / (4 n^2))
//     [low, high] = [center - half, center + half], clamped to [0, 1]
// With n = 0 nothing is known: rate 0 and interval [0, 1]. With ties the successes
// are not a whole number (s = w + t/2); the formula is used as is, which is slightly
// conservative because a tie varies less than a coin flip.
#pragma once

#include "data/project_store.h"

#include <string>
#include <utility>
#include <vector>

namespace ft::eval {

inline constexpr double kZ95 = 1.959963984540054;  // two-sided 95% normal quantile

struct WinRate {
    std::string model;     // whose rate this is
    std::string opponent;  // pairWinRates: the other model; "" for a per-model rate
    int wins = 0, losses = 0, ties = 0, n = 0;
    double rate = 0.0;     // (wins + ties/2) / n
    double low = 0.0, high = 1.0;  // Wilson interval
};

// Interval of `successes` (may be fractional, 0..n) out of n; {0, 1} when n == 0.
// ft::Error when n < 0 or successes lies outside 0..n.
std::pair<double, double> wilsonInterval(double successes, int n, double z = kZ95);

// A WinRate from counts (rate and interval filled in).
WinRate makeWinRate(const std::string& model, int wins, int losses, int ties, double z = kZ95);

// One entry per model that appears in `votes`, sorted by rate (highest first), then name.
// ft::Error naming the vote when a winner is not "a", "b" or "tie".
std::vector<WinRate> winRates(const std::vector<ft::data::VoteRecord>& votes, double z = kZ95);

// One entry per unordered pair of models, from the point of view of the name that sorts
// first (model < opponent), sorted by model then opponent.
std::vector<WinRate> pairWinRates(const std::vector<ft::data::VoteRecord>& votes, double z = kZ95);

} // namespace ft::eval
