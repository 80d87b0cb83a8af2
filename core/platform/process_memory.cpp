#include "platform/process_memory.h"

#include <algorithm>
#include <chrono>
#include <fstream>

#ifdef _WIN32
#include "platform/windows_api.h"
#include <psapi.h>
#else
#include <malloc.h>
#include <sys/resource.h>

#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#endif

namespace grym {

#ifdef _WIN32

SystemMemory readSystemMemory() {
    MEMORYSTATUSEX status{};
    status.dwLength = sizeof status;
    if (!::GlobalMemoryStatusEx(&status)) return {};
    return {status.ullTotalPhys, status.ullAvailPhys};
}

ProcessMemory readProcessMemory() {
    PROCESS_MEMORY_COUNTERS counters{};
    if (!::GetProcessMemoryInfo(::GetCurrentProcess(), &counters, sizeof counters)) return {};
    return {counters.WorkingSetSize, counters.PeakWorkingSetSize};
}

uint64_t heapInUseBytes() { return 0; }  // walking the Windows heaps is too slow to sample

#else

namespace {

// The values of two "Key:   1234 kB" lines of a /proc file, in bytes (0 for an absent key).
std::pair<uint64_t, uint64_t> procKilobyteFields(const char* path, const std::string& first, const std::string& second) {
    std::pair<uint64_t, uint64_t> values{0, 0};
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = line.substr(0, colon);
        if (key != first && key != second) continue;
        std::istringstream value(line.substr(colon + 1));
        uint64_t number = 0;
        std::string unit;
        value >> number >> unit;
        (key == first ? values.first : values.second) = unit == "kB" ? number * 1024 : number;
    }
    return values;
}

}  // namespace

SystemMemory readSystemMemory() {
    const auto [total, available] = procKilobyteFields("/proc/meminfo", "MemTotal", "MemAvailable");
    return {total, available};
}

ProcessMemory readProcessMemory() {
    const auto [resident, peak] = procKilobyteFields("/proc/self/status", "VmRSS", "VmHWM");
    ProcessMemory memory{resident, peak};
    if (memory.peakResidentBytes == 0) {
        // No /proc (macOS, some containers): getrusage's high-water mark.
        rusage usage{};
        if (getrusage(RUSAGE_SELF, &usage) == 0) {
#ifdef __APPLE__
            memory.peakResidentBytes = static_cast<uint64_t>(usage.ru_maxrss);  // bytes on macOS
#else
            memory.peakResidentBytes = static_cast<uint64_t>(usage.ru_maxrss) * 1024;  // KiB on Linux
#endif
        }
    }
    return memory;
}

uint64_t heapInUseBytes() {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
    const struct mallinfo2 info = mallinfo2();
    return static_cast<uint64_t>(info.uordblks) + static_cast<uint64_t>(info.hblkhd);
#else
    return 0;
#endif
}

#endif

uint64_t peakResidentBytes() { return readProcessMemory().peakResidentBytes; }

namespace {

// Resets the kernel's resident high-water mark to the current resident size; false where it cannot.
bool resetKernelResidentPeak() {
#ifdef __linux__
    std::ofstream clearRefs("/proc/self/clear_refs");
    clearRefs << "5";
    clearRefs.flush();
    return clearRefs.good() && readProcessMemory().peakResidentBytes > 0;
#else
    return false;
#endif
}

}  // namespace

ResidentPeakProbe::ResidentPeakProbe() {
#if defined(__GLIBC__)
    malloc_trim(0);
#endif
    baseline_ = readProcessMemory().residentBytes;
    kernelPeak_ = resetKernelResidentPeak();
    if (!kernelPeak_) {
        sampledPeak_ = baseline_;
        sampler_ = std::thread([this] {
            while (!stop_.load()) {
                const uint64_t now = readProcessMemory().residentBytes;
                if (now > sampledPeak_.load()) sampledPeak_ = now;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
            }
        });
    }
}

ResidentPeakProbe::~ResidentPeakProbe() {
    stop_ = true;
    if (sampler_.joinable()) sampler_.join();
}

uint64_t ResidentPeakProbe::peakIncreaseBytes() const {
    uint64_t peak = 0;
    if (kernelPeak_) {
        peak = readProcessMemory().peakResidentBytes;
    } else {
        peak = std::max(sampledPeak_.load(), readProcessMemory().residentBytes);
    }
    return peak > baseline_ ? peak - baseline_ : 0;
}

const char* ResidentPeakProbe::method() const { return kernelPeak_ ? "kernel high-water mark" : "sampled every 1 ms"; }

}  // namespace grym
