// splitmix64 (Steele, Lea & Flood 2014): the one seeded generator and 64-bit hash
// the studio uses wherever a seed must give the same result on every platform and
// standard library (std::shuffle and the std distributions differ between them):
// shuffles, train/eval splits, A/B sides, per-row rollout streams, test data.
// Not a cryptographic generator.
#pragma once

#include <cstdint>

namespace ft::util {

inline constexpr uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ull;

// splitmix64's finalizer: a bijection of 64-bit words with good avalanche.
constexpr uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// The output of a splitmix64 generator whose state was x: a well-mixed hash of x.
constexpr uint64_t splitMix64(uint64_t x) { return mix64(x + kGoldenGamma); }

class SplitMix64 {
public:
    explicit SplitMix64(uint64_t seed) : m_state(seed) {}

    uint64_t next()
    {
        m_state += kGoldenGamma;
        return mix64(m_state);
    }

    // In [0, n) by multiply-shift: one draw, bias at most n / 2^64.
    uint64_t scaled(uint64_t n) { return uint64_t((static_cast<unsigned __int128>(next()) * n) >> 64); }

    // Uniform in [0, n) without bias (Lemire's multiply-shift with rejection).
    uint64_t below(uint64_t n)
    {
        for (;;) {
            const unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
            const auto low = static_cast<uint64_t>(m);
            if (low >= n || low >= (0 - n) % n)
                return static_cast<uint64_t>(m >> 64);
        }
    }

private:
    uint64_t m_state;
};

} // namespace ft::util
