#pragma once
// Wall-clock intervals for timings and benchmarks: the monotonic clock, in seconds.
#include <chrono>

namespace grym {

using SteadyClock = std::chrono::steady_clock;

inline double secondsSince(SteadyClock::time_point start) {
    return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace grym
