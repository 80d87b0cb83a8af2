#pragma once
// Resident-memory growth bounds in tests. Under AddressSanitizer freed blocks wait in its
// quarantine (256 MB by default) and new heap pages bring shadow memory, so the resident set then
// says nothing about our code's growth: the bound holds in the plain build, and is not checked
// under ASan (where the same tests still check everything else).
#include "platform/process_memory.h"

#include <cstdint>

namespace grym::test {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentMemoryShowsGrowth = false;
#else
constexpr bool kResidentMemoryShowsGrowth = true;
#endif

inline uint64_t residentBytes() { return readProcessMemory().residentBytes; }

// Whether resident memory stayed under `before + bound` (always true where it cannot tell).
inline bool residentGrowthWithin(uint64_t before, uint64_t bound) {
    return !kResidentMemoryShowsGrowth || residentBytes() < before + bound;
}

}  // namespace grym::test
