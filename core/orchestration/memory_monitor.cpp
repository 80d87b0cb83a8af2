#include "orchestration/memory_monitor.h"

#include "common/error.h"
#include "platform/process_memory.h"
#include "platform/shared_library.h"

#include <algorithm>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

namespace grym {

const char* toString(MemoryMetric m) {
    switch (m) {
        case MemoryMetric::ProcessRss: return "processRss";
        case MemoryMetric::SystemUsed: return "systemUsed";
        case MemoryMetric::HeapInUse: return "heapInUse";
        case MemoryMetric::GpuUsed: return "gpuUsed";
        case MemoryMetric::TorchCudaAllocated: return "torchCudaAllocated";
    }
    return "?";
}

uint64_t metricValue(const MemorySnapshot& s, MemoryMetric m) {
    switch (m) {
        case MemoryMetric::ProcessRss: return s.processRssBytes;
        case MemoryMetric::SystemUsed: return s.systemUsedBytes;
        case MemoryMetric::HeapInUse: return s.heapInUseBytes;
        case MemoryMetric::GpuUsed: return s.gpu.usedBytes;
        case MemoryMetric::TorchCudaAllocated: return s.torchCuda.allocatedBytes;
    }
    return 0;
}

const char* toString(MemoryAlertLevel l) {
    switch (l) {
        case MemoryAlertLevel::Normal: return "normal";
        case MemoryAlertLevel::Warning: return "warning";
        case MemoryAlertLevel::Error: return "error";
    }
    return "?";
}

namespace {

using Clock = std::chrono::steady_clock;

std::string gib(uint64_t bytes) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f GiB", bytes / (1024.0 * 1024.0 * 1024.0));
    return buffer;
}

}  // namespace

// ---- GPU (NVML or CUDA runtime, opened at run time) ----

struct GpuMemoryReader::Impl {
    struct NvmlMemory {
        unsigned long long total, free, used;
    };
    using NvmlInit = int (*)();
    using NvmlShutdown = int (*)();
    using NvmlHandleByIndex = int (*)(unsigned int, void**);
    using NvmlMemoryInfo = int (*)(void*, NvmlMemory*);
    using CudaSetDevice = int (*)(int);
    using CudaMemGetInfo = int (*)(size_t*, size_t*);

    std::mutex mutex;  // the loaded libraries' calls are serialised
    std::unique_ptr<SharedLibrary> library;
    std::string source;
    NvmlShutdown nvmlShutdown = nullptr;
    NvmlMemoryInfo nvmlMemoryInfo = nullptr;
    void* nvmlDevice = nullptr;
    CudaMemGetInfo cudaMemGetInfo = nullptr;

    bool openNvml(int deviceIndex) {
        library = SharedLibrary::openFirst(nvmlLibraryNames());
        if (!library) return false;
        auto init = reinterpret_cast<NvmlInit>(library->symbol("nvmlInit_v2"));
        auto byIndex = reinterpret_cast<NvmlHandleByIndex>(library->symbol("nvmlDeviceGetHandleByIndex_v2"));
        nvmlMemoryInfo = reinterpret_cast<NvmlMemoryInfo>(library->symbol("nvmlDeviceGetMemoryInfo"));
        nvmlShutdown = reinterpret_cast<NvmlShutdown>(library->symbol("nvmlShutdown"));
        if (init && byIndex && nvmlMemoryInfo && nvmlShutdown && init() == 0) {
            if (byIndex(static_cast<unsigned int>(deviceIndex), &nvmlDevice) == 0) {
                source = "nvml";
                return true;
            }
            nvmlShutdown();
        }
        library.reset();
        nvmlShutdown = nullptr;
        return false;
    }

    bool openCudaRuntime(int deviceIndex) {
        library = SharedLibrary::openFirst(cudaRuntimeLibraryNames());
        if (!library) return false;
        auto setDevice = reinterpret_cast<CudaSetDevice>(library->symbol("cudaSetDevice"));
        cudaMemGetInfo = reinterpret_cast<CudaMemGetInfo>(library->symbol("cudaMemGetInfo"));
        if (setDevice && cudaMemGetInfo && setDevice(deviceIndex) == 0) {
            source = "cudart";
            return true;
        }
        library.reset();
        cudaMemGetInfo = nullptr;
        return false;
    }

    ~Impl() {
        if (nvmlShutdown) nvmlShutdown();
    }
};

GpuMemoryReader::GpuMemoryReader(bool allowCudaRuntime, int deviceIndex) : impl_(std::make_unique<Impl>()) {
    if (!impl_->openNvml(deviceIndex) && allowCudaRuntime) impl_->openCudaRuntime(deviceIndex);
}

GpuMemoryReader::~GpuMemoryReader() = default;

bool GpuMemoryReader::available() const { return !impl_->source.empty(); }

GpuMemory GpuMemoryReader::read() {
    GpuMemory g;
    std::lock_guard<std::mutex> lock(impl_->mutex);
    if (impl_->source == "nvml") {
        Impl::NvmlMemory m{};
        if (impl_->nvmlMemoryInfo(impl_->nvmlDevice, &m) == 0) {
            g = GpuMemory{true, "nvml", m.total, m.used, m.free};
        }
    } else if (impl_->source == "cudart") {
        size_t freeBytes = 0, totalBytes = 0;
        if (impl_->cudaMemGetInfo(&freeBytes, &totalBytes) == 0)
            g = GpuMemory{true, "cudart", totalBytes, totalBytes - freeBytes, freeBytes};
    }
    return g;
}

MemorySnapshot readMemorySnapshot(GpuMemoryReader* gpu) {
    MemorySnapshot s;
    const SystemMemory system = readSystemMemory();
    s.systemTotalBytes = system.totalBytes;
    s.systemAvailableBytes = system.availableBytes;
    s.systemUsedBytes = s.systemTotalBytes > s.systemAvailableBytes ? s.systemTotalBytes - s.systemAvailableBytes : 0;
    const ProcessMemory process = readProcessMemory();
    s.processRssBytes = process.residentBytes;
    s.processPeakRssBytes = process.peakResidentBytes;
    s.heapInUseBytes = heapInUseBytes();
    if (gpu && gpu->available()) s.gpu = gpu->read();
    return s;
}

// ---- MemoryMonitor ----

struct MemoryMonitor::State {
    struct Span {
        MemorySnapshot start, peak;
        uint64_t peakBytes = 0;
        size_t samples = 0;
    };

    MemoryMonitorConfig config;
    Clock::time_point created;
    std::unique_ptr<GpuMemoryReader> gpu;

    mutable std::mutex mutex;  // ring, spans, level, thresholds, callback
    std::vector<MemorySnapshot> ring;
    size_t ringNext = 0;
    std::map<std::string, Span> spans;
    MemoryAlertLevel level = MemoryAlertLevel::Normal;
    MemoryAlertCallback callback;

    std::mutex samplerMutex;  // the fields below
    std::condition_variable samplerWake;
    bool samplerStop = false;
    std::thread sampler;

    std::vector<MemorySnapshot> orderedHistory() const {  // mutex held
        std::vector<MemorySnapshot> out;
        out.reserve(ring.size());
        if (ring.size() < config.historyCapacity) return ring;
        for (size_t i = 0; i < ring.size(); ++i) out.push_back(ring[(ringNext + i) % ring.size()]);
        return out;
    }
};

MemoryMonitor::MemoryMonitor(MemoryMonitorConfig config) : state_(std::make_unique<State>()) {
    if (config.historyCapacity == 0) throw TaskError("MemoryMonitor: historyCapacity must be at least 1");
    if (config.sampleInterval.count() <= 0) throw TaskError("MemoryMonitor: sampleInterval must be positive");
    if (!config.clock) config.clock = [] { return Clock::now(); };
    if (!config.source) state_->gpu = std::make_unique<GpuMemoryReader>(config.probeCudaRuntime);
    state_->created = config.clock();
    state_->config = std::move(config);
    state_->ring.reserve(state_->config.historyCapacity);
}

MemoryMonitor::~MemoryMonitor() { stopSampling(); }

MemorySnapshot MemoryMonitor::snapshot() {
    State& st = *state_;
    MemorySnapshot s = st.config.source ? st.config.source() : readMemorySnapshot(st.gpu.get());
    if (st.config.torchProbe) s.torchCuda = st.config.torchProbe();
    s.takenAt = st.config.clock();
    s.monitorSeconds = std::chrono::duration<double>(s.takenAt - st.created).count();

    MemoryAlertCallback notify;
    std::string message;
    MemoryAlertLevel newLevel;
    {
        std::lock_guard<std::mutex> lock(st.mutex);
        if (st.ring.size() < st.config.historyCapacity) {
            st.ring.push_back(s);
        } else {
            st.ring[st.ringNext] = s;
        }
        st.ringNext = (st.ringNext + 1) % st.config.historyCapacity;

        const uint64_t peakValue = metricValue(s, st.config.peakMetric);
        for (auto& [label, span] : st.spans) {
            ++span.samples;
            if (peakValue >= span.peakBytes) {
                span.peakBytes = peakValue;
                span.peak = s;
            }
        }

        const MemoryThresholds& t = st.config.thresholds;
        const uint64_t value = metricValue(s, t.metric);
        newLevel = MemoryAlertLevel::Normal;
        if (t.errorBytes > 0 && value >= t.errorBytes)
            newLevel = MemoryAlertLevel::Error;
        else if (t.warningBytes > 0 && value >= t.warningBytes)
            newLevel = MemoryAlertLevel::Warning;
        if (newLevel != st.level) {
            const uint64_t limit = newLevel == MemoryAlertLevel::Error     ? t.errorBytes
                                   : newLevel == MemoryAlertLevel::Warning ? t.warningBytes
                                                                           : t.warningBytes ? t.warningBytes : t.errorBytes;
            message = std::string(toString(t.metric)) + " is " + gib(value) +
                      (newLevel == MemoryAlertLevel::Normal ? ", back below the threshold of "
                                                            : std::string(", at or above the ") + toString(newLevel) +
                                                                  " threshold of ") +
                      gib(limit);
            st.level = newLevel;
            notify = st.callback;
        }
    }
    if (notify) notify(newLevel, s, message);
    return s;
}

void MemoryMonitor::startTracking(const std::string& label) {
    const MemorySnapshot s = snapshot();
    std::lock_guard<std::mutex> lock(state_->mutex);
    if (state_->spans.count(label)) throw TaskError("MemoryMonitor: '" + label + "' is already being tracked");
    State::Span span;
    span.start = s;
    span.peak = s;
    span.peakBytes = metricValue(s, state_->config.peakMetric);
    span.samples = 1;
    state_->spans.emplace(label, span);
}

MemoryProfile MemoryMonitor::endTracking(const std::string& label) {
    {
        std::lock_guard<std::mutex> lock(state_->mutex);
        if (!state_->spans.count(label)) throw TaskError("MemoryMonitor: '" + label + "' is not being tracked");
    }
    const MemorySnapshot end = snapshot();  // also counted into the span's peak
    std::lock_guard<std::mutex> lock(state_->mutex);
    auto it = state_->spans.find(label);
    if (it == state_->spans.end()) throw TaskError("MemoryMonitor: '" + label + "' is not being tracked");
    MemoryProfile p;
    p.label = label;
    p.start = it->second.start;
    p.end = end;
    p.peak = it->second.peak;
    p.peakBytes = it->second.peakBytes;
    p.peakMetric = state_->config.peakMetric;
    p.samples = it->second.samples;
    p.durationSeconds = std::chrono::duration<double>(end.takenAt - p.start.takenAt).count();
    state_->spans.erase(it);
    return p;
}

bool MemoryMonitor::isTracking(const std::string& label) const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->spans.count(label) > 0;
}

MemoryAverage MemoryMonitor::getAverageUsage(std::chrono::milliseconds window) const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    MemoryAverage avg;
    if (state_->ring.empty()) return avg;
    const auto history = state_->orderedHistory();
    const auto since = history.back().takenAt - window;
    for (const auto& s : history) {
        if (s.takenAt < since) continue;
        ++avg.samples;
        avg.processRssBytes += s.processRssBytes;
        avg.systemUsedBytes += s.systemUsedBytes;
        avg.heapInUseBytes += s.heapInUseBytes;
        avg.gpuUsedBytes += s.gpu.usedBytes;
        avg.torchCudaAllocatedBytes += s.torchCuda.allocatedBytes;
    }
    const double n = static_cast<double>(avg.samples);
    avg.processRssBytes /= n;
    avg.systemUsedBytes /= n;
    avg.heapInUseBytes /= n;
    avg.gpuUsedBytes /= n;
    avg.torchCudaAllocatedBytes /= n;
    return avg;
}

std::vector<MemorySnapshot> MemoryMonitor::history() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->orderedHistory();
}

MemoryAlertLevel MemoryMonitor::alertLevel() const {
    std::lock_guard<std::mutex> lock(state_->mutex);
    return state_->level;
}

void MemoryMonitor::setAlertCallback(MemoryAlertCallback callback) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->callback = std::move(callback);
}

void MemoryMonitor::setThresholds(MemoryThresholds thresholds) {
    std::lock_guard<std::mutex> lock(state_->mutex);
    state_->config.thresholds = thresholds;
}

void MemoryMonitor::startSampling() {
    State& st = *state_;
    std::lock_guard<std::mutex> lock(st.samplerMutex);
    if (st.sampler.joinable()) {
        if (!st.samplerStop) return;  // already running
        if (st.sampler.get_id() == std::this_thread::get_id()) return;
        st.sampler.join();  // stopped from its own callback earlier; reap it
    }
    st.samplerStop = false;
    st.sampler = std::thread([this] {
        State& s = *state_;
        std::unique_lock<std::mutex> samplerLock(s.samplerMutex);
        while (!s.samplerStop) {
            samplerLock.unlock();
            snapshot();
            samplerLock.lock();
            s.samplerWake.wait_for(samplerLock, s.config.sampleInterval, [&] { return s.samplerStop; });
        }
    });
}

void MemoryMonitor::stopSampling() {
    State& st = *state_;
    std::thread finished;
    {
        std::lock_guard<std::mutex> lock(st.samplerMutex);
        st.samplerStop = true;
        // Called from the sampler itself (an alert callback): it leaves its loop; reaped later.
        if (!st.sampler.joinable() || st.sampler.get_id() == std::this_thread::get_id()) {
            st.samplerWake.notify_all();
            return;
        }
        finished = std::move(st.sampler);
    }
    st.samplerWake.notify_all();
    finished.join();
}

bool MemoryMonitor::sampling() const {
    std::lock_guard<std::mutex> lock(state_->samplerMutex);
    return state_->sampler.joinable() && !state_->samplerStop;
}

}  // namespace grym
