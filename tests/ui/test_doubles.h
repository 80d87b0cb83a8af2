#pragma once
// Test doubles for the model services the GUI drives (tests only, never in core or ui).
#include "audio/audio_buffer.h"
#include "common/error.h"
#include "orchestration/model_service.h"

#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>
#include <string>
#include <thread>

namespace grym::test {

// Base with thread-safe status and load/unload bookkeeping.
class FakeServiceBase : public ModelService {
public:
    FakeServiceBase(std::string id, TaskType type) : id_(std::move(id)), type_(type) {}
    std::string id() const override { return id_; }
    TaskType taskType() const override { return type_; }
    uint64_t estimatedMemoryBytes() const override { return 64ull << 20; }
    ServiceInfo info() const override {
        ServiceInfo info;
        info.id = id_;
        info.status = status_.load();
        info.device = ComputeDevice::Cpu;
        info.precision = Precision::Fp32;
        info.estimatedMemoryBytes = estimatedMemoryBytes();
        std::lock_guard<std::mutex> lock(mutex_);
        info.statusMessage = statusMessage_;
        info.modelPath = modelPath_;
        return info;
    }
    void load() override {
        status_ = ServiceStatus::Loading;
        std::this_thread::sleep_for(loadTime);
        if (!failLoadWith.empty()) {
            std::lock_guard<std::mutex> lock(mutex_);
            statusMessage_ = failLoadWith;
            status_ = ServiceStatus::Failed;
            throw ModelError(failLoadWith);
        }
        ++loads;
        status_ = ServiceStatus::Ready;
    }
    void unload() override { status_ = ServiceStatus::Unloaded; }
    void setModelPath(std::string path) {
        std::lock_guard<std::mutex> lock(mutex_);
        modelPath_ = std::move(path);
    }

    std::chrono::milliseconds loadTime{10};
    std::string failLoadWith;
    std::atomic<int> loads{0};
    std::atomic<int> runs{0};

protected:
    std::string id_;
    TaskType type_;
    std::atomic<ServiceStatus> status_{ServiceStatus::Unloaded};
    mutable std::mutex mutex_;
    std::string statusMessage_;
    std::string modelPath_;
};

// "Generates" a sine whose pitch follows the seed, reporting one progress update per step.
class FakeGenerationService : public FakeServiceBase {
public:
    FakeGenerationService() : FakeServiceBase("audioldm", TaskType::Generation) {}

    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        ++runs;
        status_ = ServiceStatus::Busy;
        struct BackToReady {
            std::atomic<ServiceStatus>& s;
            ~BackToReady() { s = ServiceStatus::Ready; }
        } guard{status_};
        const int steps = input.parameters.value("steps", 10);
        const double duration = input.parameters.value("duration", 1.0);
        const int64_t seed = input.parameters.value("seed", int64_t{0});
        lastPrompt = input.prompt;
        lastHadAudio = input.audio.has_value();
        {
            std::lock_guard<std::mutex> lock(parametersMutex);
            lastParameters = input.parameters;
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
            progress(update);
        }
        TaskResult result;
        AudioBuffer audio;
        audio.sampleRate = 16000;
        audio.channels = 1;
        const auto frames = static_cast<size_t>(duration * audio.sampleRate);
        const double frequency = 220.0 * (1 + seed % 4);
        audio.samples.resize(frames);
        for (size_t i = 0; i < frames; ++i)
            audio.samples[i] = static_cast<float>(0.5 * std::sin(2.0 * M_PI * frequency * i / audio.sampleRate));
        result.audio = std::move(audio);
        result.metrics = {{"steps_per_second", 1.0 / std::max(1e-6, std::chrono::duration<double>(stepTime).count())},
                          {"decode_seconds", 0.001},
                          {"model_parameters", 123456789},
                          {"peak_memory_bytes", 512ull << 20}};
        return result;
    }

    std::chrono::milliseconds stepTime{2};
    bool burnCpu = false;         // busy-loops through each step instead of sleeping
    bool waitForCancel = false;   // runs until cancelled
    std::string failWith;         // throws ModelError with this message half-way
    std::string lastPrompt;
    bool lastHadAudio = false;
    // The parameters of the last task (edit, range_start, loop, ...), read through lastTaskParameters().
    nlohmann::json lastTaskParameters() const {
        std::lock_guard<std::mutex> lock(parametersMutex);
        return lastParameters;
    }
    mutable std::mutex parametersMutex;
    nlohmann::json lastParameters;
};

// "Analyses" a clip: RMS, peak and duration, as structured data.
class FakeAnalysisService : public FakeServiceBase {
public:
    FakeAnalysisService() : FakeServiceBase("wav2vec2", TaskType::Analysis) {}

    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        ++runs;
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
        progress(update);
        TaskResult result;
        result.data = {{"features", {{"rms", std::sqrt(sum / std::max<size_t>(1, audio.samples.size()))}, {"peak", peak}}},
                       {"duration_seconds", audio.duration()},
                       {"patterns", {"tonal"}}};
        result.metrics = {{"frames_per_second", 50.0}};
        return result;
    }
};

}  // namespace grym::test
