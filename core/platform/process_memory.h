#pragma once
// What the operating system says about memory: the machine's RAM, this process's resident set
// and its heap. /proc and getrusage on Linux, GlobalMemoryStatusEx and GetProcessMemoryInfo on
// Windows; every field is 0 where the platform cannot say.
#include <atomic>
#include <cstdint>
#include <thread>

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

// How far this process's resident memory rises above where it stood when the probe was made
// (e.g. while a model loads). The process-wide high-water mark (getrusage, VmHWM) only ever
// grows, so it cannot measure a stretch that comes after a larger one. Two methods:
//  - Linux: the probe resets the kernel's own high-water mark (writing 5 to
//    /proc/self/clear_refs, Linux 4.0+) and reads VmHWM back: exact, every page counted.
//  - elsewhere, or where that file cannot be written: a thread samples the resident size every
//    millisecond, which can miss a rise shorter than that.
// First the C heap hands its free memory back (malloc_trim), so memory freed earlier cannot be
// reused unseen inside the stretch. Measures the whole process: run nothing else meanwhile.
class ResidentPeakProbe {
public:
    ResidentPeakProbe();
    ~ResidentPeakProbe();
    ResidentPeakProbe(const ResidentPeakProbe&) = delete;
    ResidentPeakProbe& operator=(const ResidentPeakProbe&) = delete;

    // Peak resident bytes since construction minus the resident bytes at construction.
    uint64_t peakIncreaseBytes() const;
    uint64_t baselineBytes() const { return baseline_; }
    // "kernel high-water mark" or "sampled every 1 ms".
    const char* method() const;

private:
    uint64_t baseline_ = 0;
    bool kernelPeak_ = false;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> sampledPeak_{0};
    std::thread sampler_;
};

}  // namespace grym
