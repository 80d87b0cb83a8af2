#pragma once
// What the operating system says about this process's memory.
#include <cstdint>

namespace grym {

// Peak resident memory of this process so far, in bytes (0 where the platform cannot say).
uint64_t peakResidentBytes();

}  // namespace grym
