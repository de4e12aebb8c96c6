#include "eval/win_rate.h"

#include "util/error.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace ft::eval {

namespace {

struct Tally {
    int wins = 0, losses = 0, ties = 0;
};

// +1: modelA won, -1: modelB won, 0: tie.
int outcome(const ft::data::VoteRecord& v) {
    if (v.winner == "a")
        return 1;
    if (v.winner == "b")
        return -1;
    if (v.winner == "tie")
        return 0;
    ft::fail("vote " + std::to_string(v.id) + " (" + v.modelA + " vs " + v.modelB + ") has winner '" + v.winner +
             "'; expected \"a\", \"b\" or \"tie\"");
}

void count(Tally& t, int result) {
    if (result > 0)
        ++t.wins;
    else if (result < 0)
        ++t.losses;
    else
        ++t.ties;
}

} // namespace

std::pair<double, double> wilsonInterval(double successes, int n, double z) {
    if (n < 0)
        ft::fail("wilsonInterval: the number of votes must not be negative (got " + std::to_string(n) + ")");
    if (n == 0)
        return {0.0, 1.0};
    if (!(successes >= 0.0 && successes <= n))
        ft::fail("wilsonInterval: successes must lie in 0.." + std::to_string(n) + " (got " +
                 std::to_string(successes) + ")");
    const double nn = n;
    const double p = successes / nn;
    const double z2 = z * z;
    const double denom = 1.0 + z2 / nn;
    const double center = (p + z2 / (2.0 * nn)) / denom;
    const double half = z / denom * std::sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
    return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

WinRate makeWinRate(const std::string& model, int wins, int losses, int ties, double z) {
    WinRate r;
    r.model = model;
    r.wins = wins;
    r.losses = losses;
    r.ties = ties;
    r.n = wins + losses + ties;
    const double successes = wins + 0.5 * ties;
    r.rate = r.n > 0 ? successes / r.n : 0.0;
    std::tie(r.low, r.high) = wilsonInterval(successes, r.n, z);
    return r;
}

std::vector<WinRate> winRates(const std::vector<ft::data::VoteRecord>& votes, double z) {
    std::map<std::string, Tally> tallies;
    for (const auto& v : votes) {
        const int result = outcome(v);
        if (v.modelA == v.modelB)
            continue;
        count(tallies[v.modelA], result);
        count(tallies[v.modelB], -result);
    }
    std::vector<WinRate> out;
    for (const auto& [model, t] : tallies)
        out.push_back(makeWinRate(model, t.wins, t.losses, t.ties, z));
    std::stable_sort(out.begin(), out.end(), [](const WinRate& x, const WinRate& y) { return x.rate > y.rate; });
    return out;
}

std::vector<WinRate> pairWinRates(const std::vector<ft::data::VoteRecord>& votes, double z) {
    std::map<std::pair<std::string, std::string>, Tally> tallies;
    for (const auto& v : votes) {
        const int result = outcome(v);
        if (v.modelA == v.modelB)
            continue;
        if (v.modelA < v.modelB)
            count(tallies[{v.modelA, v.modelB}], result);
        else
            count(tallies[{v.modelB, v.modelA}], -result);
    }
    std::vector<WinRate> out;
    for (const auto& [pair, t] : tallies) {
        WinRate r = makeWinRate(pair.first, t.wins, t.losses, t.ties, z);
        r.opponent = pair.second;
        out.push_back(std::move(r));
    }
    return out;
}

} // namespace ft::eval
