#pragma once
// What the operating system says about memory: the machine's RAM, this process's resident set
// and its heap. /proc and getrusage on Linux, GlobalMemoryStatusEx and GetProcessMemoryInfo on
// Windows; every field is 0 where the platform cannot say.
#include <cstdint>

namespace grym {

struct SystemMemory {
    uint64_t totalBytes = 0;
    uint64_t availableBytes = 0;  // what new allocations can get without swapping
};

struct ProcessMemory {
    uint64_t residentBytes = 0;
    uint64_t peakResidentBytes = 0;  // the high-water mark since the process started
};

SystemMemory readSystemMemory();
ProcessMemory readProcessMemory();

// Peak resident memory of this process so far, in bytes.
uint64_t peakResidentBytes();

// Bytes the C heap has handed out and not yet taken back (glibc's mallinfo2).
uint64_t heapInUseBytes();

}  // namespace grym
