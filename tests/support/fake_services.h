#pragma once
// The test-double model services of every test (orchestration, API, UI, the GUI latency bench),
// and the small synchronisation helpers their tests share. They live in tests/, never in core/.
// No torch: the orchestration tests also build under ThreadSanitizer without libtorch.
#include "audio/audio_buffer.h"
#include "common/error.h"
#include "orchestration/model_service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace grym::test {

// A latch the test opens to let blocked tasks proceed.
class Gate {
public:
    void open() {
        {
            std::lock_guard<std::mutex> lock(mutex_);
            open_ = true;
        }
        cv_.notify_all();
    }
    // Waits until opened or the token fires; returns false when cancelled.
    bool pass(const CancellationToken& token) {
        std::unique_lock<std::mutex> lock(mutex_);
        while (!open_) {
            if (token.cancelled()) return false;
            cv_.wait_for(lock, std::chrono::milliseconds(1));
        }
        return true;
    }

private:
    std::mutex mutex_;
    std::condition_variable cv_;
    bool open_ = false;
};

// Records the order in which tasks (by label) start running.
class RunLog {
public:
    void add(const std::string& label) {
        std::lock_guard<std::mutex> lock(mutex_);
        labels_.push_back(label);
    }
    std::vector<std::string> labels() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return labels_;
    }

private:
    mutable std::mutex mutex_;
    std::vector<std::string> labels_;
};

// Polls until `predicate` holds (or ~5 s pass); returns whether it held.
template <class Predicate>
bool eventually(Predicate predicate) {
    for (int i = 0; i < 5000; ++i) {
        if (predicate()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return predicate();
}

// A configurable service with thread-safe status and load/unload bookkeeping. Its run() does
// `steps` steps of `stepDelay`, reporting progress and checking cancellation, and returns which
// service ran which prompt (plus a short constant clip for a generation service).
class FakeService : public ModelService {
public:
    FakeService(std::string id, TaskType type, uint64_t memoryBytes = 1000)
        : id_(std::move(id)), type_(type), memory_(memoryBytes) {}

    std::string id() const override { return id_; }
    TaskType taskType() const override { return type_; }
    uint64_t estimatedMemoryBytes() const override { return memory_; }
    ServiceInfo info() const override {
        std::lock_guard<std::mutex> lock(mutex_);
        ServiceInfo i;
        i.id = id_;
        i.status = status_;
        i.statusMessage = message_;
        i.device = ComputeDevice::Cpu;
        i.precision = precision;
        i.estimatedMemoryBytes = memory_;
        i.modelPath = modelPath_;
        return i;
    }
    void load() override {
        setStatus(ServiceStatus::Loading);
        if (loadTime.count() > 0) std::this_thread::sleep_for(loadTime);
        std::lock_guard<std::mutex> lock(mutex_);
        if (!failLoadWith.empty()) {
            status_ = ServiceStatus::Failed;
            message_ = failLoadWith;
            throw ModelError(id_ + ": " + failLoadWith);
        }
        status_ = ServiceStatus::Ready;
        ++loads;
    }
    void unload() override {
        std::lock_guard<std::mutex> lock(mutex_);
        status_ = ServiceStatus::Unloaded;
        ++unloads;
    }
    void setStatus(ServiceStatus s) {
        std::lock_guard<std::mutex> lock(mutex_);
        status_ = s;
    }
    void setModelPath(std::string path) {
        std::lock_guard<std::mutex> lock(mutex_);
        modelPath_ = std::move(path);
    }

    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        ++runs;
        if (gate && !gate->pass(cancel)) throw TaskCancelled{};
        for (int step = 1; step <= steps; ++step) {
            cancel.throwIfCancelled();
            if (stepDelay.count() > 0) std::this_thread::sleep_for(stepDelay);
            ProgressUpdate u;
            u.step = step;
            u.totalSteps = steps;
            u.fraction = static_cast<double>(step) / steps;
            u.stage = "working";
            if (progress) progress(u);
        }
        if (input.parameters.value("fail", false)) throw ModelError(id_ + ": the model produced NaNs");
        TaskResult r;
        r.data["service"] = id_;
        r.data["prompt"] = input.prompt;
        if (type_ == TaskType::Generation) {
            AudioBuffer audio;
            audio.sampleRate = 16000;
            audio.channels = 1;
            audio.samples.assign(1600, 0.25f);
            r.audio = audio;
        }
        return r;
    }

    std::atomic<int> runs{0};
    std::atomic<int> loads{0};
    std::atomic<int> unloads{0};
    int steps = 3;
    std::chrono::milliseconds stepDelay{0};
    std::chrono::milliseconds loadTime{0};
    Gate* gate = nullptr;
    std::string failLoadWith;  // load() fails with this message (status Failed)
    Precision precision = Precision::Fp32;

protected:
    std::string id_;
    TaskType type_;
    uint64_t memory_;
    mutable std::mutex mutex_;
    ServiceStatus status_ = ServiceStatus::Unloaded;
    std::string message_;
    std::string modelPath_;
};

// "audioldm": "generates" a sine of the requested duration and sample rate whose pitch follows
// the seed, in the requested number of steps, reporting one progress update per step.
class FakeGenerationService : public FakeService {
public:
    explicit FakeGenerationService(std::chrono::milliseconds stepTime = std::chrono::milliseconds(2))
        : FakeService("audioldm", TaskType::Generation, 64ull << 20), stepTime(stepTime) {
        loadTime = std::chrono::milliseconds(10);
    }

    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        ++runs;
        setStatus(ServiceStatus::Busy);
        struct BackToReady {
            FakeGenerationService& service;
            ~BackToReady() { service.setStatus(ServiceStatus::Ready); }
        } guard{*this};
        const int steps = input.parameters.value("steps", 10);
        const double duration = input.parameters.value("duration", 1.0);
        const int64_t seed = input.parameters.value("seed", int64_t{0});
        {
            std::lock_guard<std::mutex> lock(mutex_);
            lastPrompt = input.prompt;
            lastHadAudio = input.audio.has_value();
        }
        for (int step = 1; step <= steps || waitForCancel; ++step) {
            cancel.throwIfCancelled();
            if (!failWith.empty() && step > steps / 2) throw ModelError(failWith);
            if (burnCpu) {
                // Keeps a core busy for the step, as a real diffusion step does.
                const auto until = std::chrono::steady_clock::now() + stepTime;
                volatile double sink = 0.0;
                while (std::chrono::steady_clock::now() < until)
                    for (int i = 0; i < 1000; ++i) sink = sink + std::sin(i * 0.001);
            } else {
                std::this_thread::sleep_for(stepTime);
            }
            ProgressUpdate update;
            update.step = std::min(step, steps);
            update.totalSteps = steps;
            update.fraction = static_cast<double>(update.step) / steps;
            update.stage = "denoising";
            update.secondsRemaining = (steps - update.step) * std::chrono::duration<double>(stepTime).count();
            if (progress) progress(update);
        }
        AudioBuffer audio;
        audio.sampleRate = input.parameters.value("sample_rate", 16000);
        audio.channels = 1;
        const auto frames = static_cast<size_t>(duration * audio.sampleRate);
        const double frequency = 220.0 * (1 + seed % 4);
        audio.samples.resize(frames);
        for (size_t i = 0; i < frames; ++i)
            audio.samples[i] = static_cast<float>(0.5 * std::sin(2.0 * M_PI * frequency * i / audio.sampleRate));
        TaskResult result;
        result.audio = std::move(audio);
        result.metrics = {{"steps", steps},
                          {"steps_per_second", 1.0 / std::max(1e-6, std::chrono::duration<double>(stepTime).count())},
                          {"decode_seconds", 0.001},
                          {"model_parameters", 123456789},
                          {"peak_memory_bytes", 512ull << 20}};
        return result;
    }

    std::chrono::milliseconds stepTime;
    bool burnCpu = false;         // busy-loops through each step instead of sleeping
    bool waitForCancel = false;   // runs until cancelled
    std::string failWith;         // throws ModelError with this message half-way
    std::string lastPrompt;       // written under the service's lock while it runs
    bool lastHadAudio = false;
};

// "wav2vec2": "analyses" a clip: RMS, peak, duration and sample rate, as structured data.
class FakeAnalysisService : public FakeService {
public:
    FakeAnalysisService() : FakeService("wav2vec2", TaskType::Analysis, 64ull << 20) {
        loadTime = std::chrono::milliseconds(10);
    }

    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        ++runs;
        cancel.throwIfCancelled();
        if (!input.audio) throw TaskError("analysis needs audio");
        const AudioBuffer& audio = *input.audio;
        double sum = 0.0, peak = 0.0;
        for (float s : audio.samples) {
            sum += static_cast<double>(s) * s;
            peak = std::max(peak, static_cast<double>(std::fabs(s)));
        }
        ProgressUpdate update;
        update.fraction = 1.0;
        update.stage = "analysing";
        if (progress) progress(update);
        TaskResult result;
        result.data = {{"features",
                        {{"rms", std::sqrt(sum / std::max<size_t>(1, audio.samples.size()))},
                         {"peak", peak},
                         {"duration", audio.duration()},
                         {"sample_rate", audio.sampleRate}}},
                       {"duration_seconds", audio.duration()},
                       {"patterns", {"tonal"}}};
        result.metrics = {{"frames_per_second", 50.0}};
        return result;
    }
};

}  // namespace grym::test
