#include "orchestration/performance_suite.h"

#include "common/elapsed.h"

#include "common/error.h"
#include "orchestration/task_queue.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace grym {

namespace {

using Clock = std::chrono::steady_clock;


bool loaded(const ModelService& s) {
    const auto status = s.info().status;
    return status == ServiceStatus::Ready || status == ServiceStatus::Busy;
}

// A test clip for analysis services: a rising chirp with a little noise, so every frame differs.
AudioBuffer testSignal(double seconds, int sampleRate, uint64_t seed) {
    AudioBuffer a;
    a.sampleRate = sampleRate;
    a.channels = 1;
    const size_t n = static_cast<size_t>(std::max(0.0, seconds) * sampleRate);
    a.samples.resize(n);
    uint64_t state = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    double phase = 0.0;
    const double pi = 3.14159265358979323846;
    for (size_t i = 0; i < n; ++i) {
        const double t = static_cast<double>(i) / sampleRate;
        const double frequency = 110.0 + 880.0 * t / std::max(seconds, 1e-9);
        phase += 2.0 * pi * frequency / sampleRate;
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        const double noise = static_cast<double>(state >> 40) / static_cast<double>(1ULL << 24) - 0.5;
        a.samples[i] = static_cast<float>(0.5 * std::sin(phase) + 0.05 * noise);
    }
    return a;
}

const char* quantizationLevel(Precision p) {
    switch (p) {
        case Precision::Int8: return "8bit";
        case Precision::Int4: return "4bit";
        default: return "none";
    }
}

}  // namespace

double promptComplexityScore(const std::string& prompt) {
    std::vector<std::string> words;
    std::string word;
    int clauses = 0;
    for (char ch : prompt + " ") {
        const unsigned char c = static_cast<unsigned char>(ch);
        if (std::isalnum(c)) {
            word += static_cast<char>(std::tolower(c));
            continue;
        }
        if (ch == ',' || ch == ';') ++clauses;
        if (!word.empty()) words.push_back(word);
        word.clear();
    }
    if (words.empty()) return 0.0;
    static const std::set<std::string> joiners = {"with", "and", "while", "then", "followed", "over", "behind", "against"};
    for (const auto& w : words)
        if (joiners.count(w)) ++clauses;
    const double n = static_cast<double>(words.size());
    const double variety = static_cast<double>(std::set<std::string>(words.begin(), words.end()).size()) / n;
    const double score = 0.5 * std::min(1.0, n / 30.0) + 0.3 * variety * std::min(1.0, n / 8.0) +
                         0.2 * std::min(1.0, clauses / 4.0);
    return std::clamp(score, 0.0, 1.0);
}

PerformanceTestSuite::PerformanceTestSuite(std::shared_ptr<ModelService> service, MemoryMonitor& monitor)
    : service_(std::move(service)), monitor_(monitor) {
    if (!service_) throw TaskError("PerformanceTestSuite: no service to measure");
}

MemoryMetric PerformanceTestSuite::memoryMetric() const {
    if (service_->info().device != ComputeDevice::Cuda) return MemoryMetric::ProcessRss;
    const auto history = monitor_.history();
    if (!history.empty() && history.back().torchCuda.available) return MemoryMetric::TorchCudaAllocated;
    if (!history.empty() && history.back().gpu.available) return MemoryMetric::GpuUsed;
    return MemoryMetric::ProcessRss;
}

uint64_t PerformanceTestSuite::sampleMemory() { return metricValue(monitor_.snapshot(), memoryMetric()); }

namespace {

// The highest value of `metric` the monitor saw inside a tracked span, including samples the
// background sampler took, and the kernel's RSS high-water mark when it rose inside the span.
uint64_t peakOf(const MemoryMonitor& monitor, const MemoryProfile& span, MemoryMetric metric) {
    uint64_t peak = std::max(metricValue(span.start, metric), metricValue(span.end, metric));
    for (const auto& s : monitor.history())
        if (s.takenAt >= span.start.takenAt && s.takenAt <= span.end.takenAt) peak = std::max(peak, metricValue(s, metric));
    if (metric == MemoryMetric::ProcessRss && span.end.processPeakRssBytes > span.start.processPeakRssBytes)
        peak = std::max(peak, span.end.processPeakRssBytes);
    if (metric == MemoryMetric::TorchCudaAllocated && span.end.torchCuda.peakAllocatedBytes > span.start.torchCuda.peakAllocatedBytes)
        peak = std::max(peak, span.end.torchCuda.peakAllocatedBytes);
    return peak;
}

}  // namespace

InitializationMetrics PerformanceTestSuite::runInitializationTest() {
    if (loaded(*service_)) service_->unload();
    InitializationMetrics m;
    m.initial = sampleMemory();
    monitor_.startTracking("bench:initialization");
    const auto start = Clock::now();
    try {
        service_->load();
    } catch (...) {
        monitor_.endTracking("bench:initialization");
        throw;
    }
    m.initializationTime = secondsSince(start);
    const MemoryProfile span = monitor_.endTracking("bench:initialization");
    const MemoryMetric metric = memoryMetric();
    m.peak = peakOf(monitor_, span, metric);
    // "Stable": the mean of a few samples once loading has settled.
    uint64_t sum = 0;
    constexpr int settleSamples = 3;
    for (int i = 0; i < settleSamples; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        sum += sampleMemory();
    }
    m.stable = sum / settleSamples;
    m.peak = std::max({m.peak, m.initial, m.stable});
    init_ = m;
    return m;
}

TaskInput PerformanceTestSuite::taskInputFor(const ModelService& service, const GenerationTestConfig& config) {
    TaskInput in;
    in.prompt = config.prompt;
    in.parameters = {{"duration", config.durationSeconds},
                     {"steps", config.diffusionSteps},
                     {"batchSize", config.batchSize},
                     {"seed", config.seed}};
    if (service.taskType() == TaskType::Analysis) {
        const int rate = service.inputRequirements().sampleRate > 0 ? service.inputRequirements().sampleRate : 16000;
        in.audio = testSignal(config.durationSeconds, rate, config.seed);
    }
    return in;
}

GenerationMetrics PerformanceTestSuite::runGenerationTest(const GenerationTestConfig& config) {
    if (config.iterations < 1) throw TaskError("bench: iterations must be at least 1");
    if (config.diffusionSteps < 1) throw TaskError("bench: diffusion steps must be at least 1");
    if (!(config.durationSeconds > 0)) throw TaskError("bench: duration must be positive");
    if (!loaded(*service_)) service_->load();
    GenerationMetrics m;
    m.promptComplexityScore = promptComplexityScore(config.prompt);
    const MemoryMetric metric = memoryMetric();
    std::vector<double> times;
    CancellationToken never;
    for (int i = 0; i < config.iterations; ++i) {
        GenerationTestConfig run = config;
        run.seed = config.seed + static_cast<uint64_t>(i);
        const TaskInput input = taskInputFor(*service_, run);
        const std::string label = "bench:generation:" + std::to_string(i);
        monitor_.startTracking(label);
        const auto start = Clock::now();
        try {
            service_->run(input, ProgressCallback{}, never);
        } catch (...) {
            monitor_.endTracking(label);
            throw;
        }
        times.push_back(secondsSince(start));
        const MemoryProfile span = monitor_.endTracking(label);
        m.peakMemoryDuringGeneration = std::max(m.peakMemoryDuringGeneration, peakOf(monitor_, span, metric));
    }
    m.runs = static_cast<int>(times.size());
    double total = 0;
    for (double t : times) total += t;
    m.averageGenerationTime = total / m.runs;
    m.minGenerationTime = *std::min_element(times.begin(), times.end());
    m.maxGenerationTime = *std::max_element(times.begin(), times.end());
    generation_ = m;
    generationConfig_ = config;
    return m;
}

StressMetrics PerformanceTestSuite::runStressTest(const StressTestConfig& config) {
    if (config.iterations < 1 || config.concurrent < 1)
        throw TaskError("bench: stress iterations and concurrency must be at least 1");
    if (!loaded(*service_)) service_->load();
    const MemoryMetric metric = memoryMetric();

    StressMetrics m;
    std::mutex mutex;  // latencies, errors
    std::vector<double> latencies;
    TaskQueueConfig queueConfig;
    queueConfig.workerCount = static_cast<size_t>(config.concurrent);
    queueConfig.maxQueuedTasks = static_cast<size_t>(config.iterations);
    auto service = service_;
    monitor_.startTracking("bench:stress");
    const auto start = Clock::now();
    std::vector<TaskHandle> handles;
    {
        TaskQueue queue(queueConfig, [service](const AudioTask& t, const ProgressCallback& p, const CancellationToken& c) {
            return service->run(t.input, p, c);
        });
        std::vector<std::thread> submitters;
        std::mutex handlesMutex;
        for (int s = 0; s < config.concurrent; ++s) {
            submitters.emplace_back([&, s] {
                for (int i = s; i < config.iterations; i += config.concurrent) {
                    GenerationTestConfig run = config.task;
                    run.seed = config.task.seed + static_cast<uint64_t>(i);
                    AudioTask task;
                    task.type = service->taskType();
                    task.serviceId = service->id();
                    task.input = taskInputFor(*service, run);
                    task.label = "stress " + std::to_string(i);
                    const auto submitted = Clock::now();
                    TaskCallbacks callbacks;
                    callbacks.onComplete = [&, submitted](TaskId, TaskState state, const std::string& error) {
                        std::lock_guard<std::mutex> lock(mutex);
                        latencies.push_back(secondsSince(submitted));
                        if (state == TaskState::Failed && m.errors.size() < 5) m.errors.push_back(error);
                    };
                    TaskHandle h = queue.submit(std::move(task), callbacks);
                    std::lock_guard<std::mutex> lock(handlesMutex);
                    handles.push_back(h);
                }
            });
        }
        for (auto& t : submitters) t.join();
        queue.shutdown(ShutdownMode::Drain);
    }
    m.totalSeconds = secondsSince(start);
    const MemoryProfile span = monitor_.endTracking("bench:stress");
    m.peakMemory = peakOf(monitor_, span, metric);
    for (const auto& h : handles) {
        ++m.submitted;
        switch (h.state()) {
            case TaskState::Succeeded: ++m.succeeded; break;
            case TaskState::Failed: ++m.failed; break;
            default: ++m.cancelled; break;
        }
    }
    std::sort(latencies.begin(), latencies.end());
    if (!latencies.empty()) {
        double total = 0;
        for (double l : latencies) total += l;
        m.averageLatency = total / latencies.size();
        m.p95Latency = latencies[std::min(latencies.size() - 1, static_cast<size_t>(0.95 * latencies.size()))];
    }
    m.throughputPerSecond = m.totalSeconds > 0 ? m.succeeded / m.totalSeconds : 0.0;
    stress_ = m;
    stressConfig_ = config;
    return m;
}

nlohmann::json PerformanceTestSuite::metrics() const {
    using nlohmann::json;
    const ServiceInfo info = service_->info();
    json out;
    out["service"] = {{"id", service_->id()},
                      {"taskType", toString(service_->taskType())},
                      {"status", toString(info.status)},
                      {"device", toString(info.device)},
                      {"precision", toString(info.precision)},
                      {"modelPath", info.modelPath},
                      {"estimatedMemoryBytes", info.estimatedMemoryBytes}};
    out["memoryMetric"] = toString(memoryMetric());
    out["initializationTime"] = init_ ? json(init_->initializationTime) : json(nullptr);

    uint64_t peak = init_ ? init_->peak : 0;
    if (generation_) peak = std::max(peak, generation_->peakMemoryDuringGeneration);
    if (stress_) peak = std::max(peak, stress_->peakMemory);
    out["memoryUsage"] = {{"initial", init_ ? json(init_->initial) : json(nullptr)},
                          {"peak", init_ || generation_ || stress_ ? json(peak) : json(nullptr)},
                          {"stable", init_ ? json(init_->stable) : json(nullptr)},
                          {"unit", "bytes"}};
    if (generation_) {
        out["generationMetrics"] = {{"averageGenerationTime", generation_->averageGenerationTime},
                                    {"peakMemoryDuringGeneration", generation_->peakMemoryDuringGeneration},
                                    {"promptComplexityScore", generation_->promptComplexityScore},
                                    {"runs", generation_->runs},
                                    {"minGenerationTime", generation_->minGenerationTime},
                                    {"maxGenerationTime", generation_->maxGenerationTime},
                                    {"prompt", generationConfig_->prompt},
                                    {"durationSeconds", generationConfig_->durationSeconds}};
    } else {
        out["generationMetrics"] = nullptr;
    }
    const GenerationTestConfig& used = generationConfig_ ? *generationConfig_
                                       : stressConfig_    ? stressConfig_->task
                                                          : GenerationTestConfig{};
    out["modelMetrics"] = {{"quantizationLevel", quantizationLevel(info.precision)},
                           {"diffusionSteps", used.diffusionSteps},
                           {"batchSize", used.batchSize},
                           {"useHalfPrecision", info.precision == Precision::Fp16 || info.precision == Precision::Bf16}};
    if (stress_) {
        out["stress"] = {{"iterations", stressConfig_->iterations},
                         {"concurrent", stressConfig_->concurrent},
                         {"submitted", stress_->submitted},
                         {"succeeded", stress_->succeeded},
                         {"failed", stress_->failed},
                         {"cancelled", stress_->cancelled},
                         {"totalSeconds", stress_->totalSeconds},
                         {"throughputPerSecond", stress_->throughputPerSecond},
                         {"averageLatency", stress_->averageLatency},
                         {"p95Latency", stress_->p95Latency},
                         {"peakMemory", stress_->peakMemory},
                         {"errors", stress_->errors}};
    }
    return out;
}

}  // namespace grym
