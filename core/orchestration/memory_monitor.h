#pragma once
// MemoryMonitor: system, process and GPU memory, sampled on demand and by a background thread
// into a ring buffer that UIs graph; labelled tracking spans with peak profiles; thresholds.
//
// Sources (each optional; missing ones read as available=false / 0):
//   - system RAM, process resident set and heap in use: platform/process_memory.h
//   - GPU total/used/free: NVML or, when probeCudaRuntime is set, the CUDA runtime, both opened
//     at run time (platform/shared_library.h), so no GPU or driver is needed
//   - libtorch's CUDA caching allocator: through config.torchProbe (see torch_memory_probe.h),
//     which keeps this file free of torch
//
// Threads: all public methods are thread-safe. The alert callback runs on the thread that took
// the sample that changed the alert level (the sampler thread, or a snapshot() caller), with no
// lock held. history() copies the ring buffer out.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace grym {

struct GpuMemory {
    bool available = false;
    std::string source;  // "nvml" or "cudart"
    uint64_t totalBytes = 0;
    uint64_t usedBytes = 0;
    uint64_t freeBytes = 0;
};

struct TorchCudaMemory {
    bool available = false;
    uint64_t allocatedBytes = 0;      // tensors alive now
    uint64_t peakAllocatedBytes = 0;  // since start or the last reset
    uint64_t reservedBytes = 0;       // held by the caching allocator
};

struct MemorySnapshot {
    std::chrono::steady_clock::time_point takenAt;
    double monitorSeconds = 0.0;  // seconds since the monitor was created (graph x axis)
    uint64_t systemTotalBytes = 0;
    uint64_t systemAvailableBytes = 0;
    uint64_t systemUsedBytes = 0;  // total - available
    uint64_t processRssBytes = 0;
    uint64_t processPeakRssBytes = 0;
    uint64_t heapInUseBytes = 0;
    GpuMemory gpu;
    TorchCudaMemory torchCuda;
};

enum class MemoryMetric { ProcessRss, SystemUsed, HeapInUse, GpuUsed, TorchCudaAllocated };
const char* toString(MemoryMetric m);
uint64_t metricValue(const MemorySnapshot& s, MemoryMetric m);

enum class MemoryAlertLevel { Normal, Warning, Error };
const char* toString(MemoryAlertLevel l);

struct MemoryThresholds {
    MemoryMetric metric = MemoryMetric::ProcessRss;
    uint64_t warningBytes = 0;  // 0: off
    uint64_t errorBytes = 0;    // 0: off
};

// One tracked span: its duration and the snapshots at start, end and the peak sample.
struct MemoryProfile {
    std::string label;
    double durationSeconds = 0.0;
    MemorySnapshot start, end;
    MemorySnapshot peak;        // the sample with the highest value of peakMetric
    MemoryMetric peakMetric = MemoryMetric::ProcessRss;
    uint64_t peakBytes = 0;     // metricValue(peak, peakMetric)
    size_t samples = 0;         // samples taken inside the span
};

struct MemoryAverage {
    size_t samples = 0;
    double processRssBytes = 0, systemUsedBytes = 0, heapInUseBytes = 0, gpuUsedBytes = 0, torchCudaAllocatedBytes = 0;
};

struct MemoryMonitorConfig {
    std::chrono::milliseconds sampleInterval{500};
    size_t historyCapacity = 1200;      // ring buffer length (10 minutes at 500 ms)
    MemoryThresholds thresholds;
    MemoryMetric peakMetric = MemoryMetric::ProcessRss;  // what "peak" means for tracked spans
    bool probeCudaRuntime = false;       // cudart fallback creates a CUDA context: opt in
    std::function<TorchCudaMemory()> torchProbe;
    // Replaces the real readers (tests); takenAt/monitorSeconds are filled in by the monitor.
    std::function<MemorySnapshot()> source;
    std::function<std::chrono::steady_clock::time_point()> clock;
};

using MemoryAlertCallback = std::function<void(MemoryAlertLevel level, const MemorySnapshot&, const std::string& message)>;

// Reads the real sources once (no monitor needed). gpu is null-safe: pass nullptr to skip GPU.
class GpuMemoryReader;
MemorySnapshot readMemorySnapshot(GpuMemoryReader* gpu);

// NVML / CUDA runtime opened at run time. Safe to create without a GPU (available() is then false).
class GpuMemoryReader {
public:
    explicit GpuMemoryReader(bool allowCudaRuntime = false, int deviceIndex = 0);
    ~GpuMemoryReader();
    GpuMemoryReader(const GpuMemoryReader&) = delete;
    GpuMemoryReader& operator=(const GpuMemoryReader&) = delete;
    bool available() const;
    GpuMemory read();

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

class MemoryMonitor {
public:
    explicit MemoryMonitor(MemoryMonitorConfig config = {});
    ~MemoryMonitor();  // stops the sampler
    MemoryMonitor(const MemoryMonitor&) = delete;
    MemoryMonitor& operator=(const MemoryMonitor&) = delete;

    // Takes a sample now: records it in the history, updates tracked peaks, checks thresholds.
    MemorySnapshot snapshot();

    // Tracking spans may nest and overlap; labels must be unique among active spans.
    void startTracking(const std::string& label);
    MemoryProfile endTracking(const std::string& label);  // throws TaskError for an unknown label
    bool isTracking(const std::string& label) const;

    // Mean over the samples taken within `window` before the latest one.
    MemoryAverage getAverageUsage(std::chrono::milliseconds window) const;
    std::vector<MemorySnapshot> history() const;  // oldest first
    MemoryAlertLevel alertLevel() const;

    void setAlertCallback(MemoryAlertCallback callback);
    void setThresholds(MemoryThresholds thresholds);

    void startSampling();  // idempotent
    void stopSampling();   // idempotent; joins the sampler
    bool sampling() const;

private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace grym
