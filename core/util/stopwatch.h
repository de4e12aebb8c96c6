// Wall-clock intervals for benchmarks and progress figures (steady, never the
// calendar clock).
#pragma once

#include <chrono>

namespace ft::util {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point start)
{
    return std::chrono::duration<double>(Clock::now() - start).count();
}

} // namespace ft::util
