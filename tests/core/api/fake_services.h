#pragma once
// Test doubles for the API tests: quick, deterministic services with real cancellation.
#include "common/error.h"
#include "orchestration/model_service.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <thread>

namespace grym::test {

class FakeServiceBase : public ModelService {
public:
    ServiceInfo info() const override {
        std::lock_guard<std::mutex> lock(mutex_);
        ServiceInfo i;
        i.id = id();
        i.status = status_;
        i.estimatedMemoryBytes = estimatedMemoryBytes();
        return i;
    }
    uint64_t estimatedMemoryBytes() const override { return 1 << 20; }
    void load() override {
        std::lock_guard<std::mutex> lock(mutex_);
        status_ = ServiceStatus::Ready;
    }
    void unload() override {
        std::lock_guard<std::mutex> lock(mutex_);
        status_ = ServiceStatus::Unloaded;
    }

protected:
    mutable std::mutex mutex_;
    ServiceStatus status_ = ServiceStatus::Unloaded;
};

// Makes a sine of the requested duration in `steps` steps of `stepMillis` each.
class FakeGenerator : public FakeServiceBase {
public:
    explicit FakeGenerator(int stepMillis = 1) : stepMillis_(stepMillis) {}
    std::string id() const override { return "audioldm"; }
    TaskType taskType() const override { return TaskType::Generation; }
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        const int steps = input.parameters.value("steps", 10);
        for (int s = 0; s < steps; ++s) {
            cancel.throwIfCancelled();
            std::this_thread::sleep_for(std::chrono::milliseconds(stepMillis_));
            if (progress) progress({double(s + 1) / steps, s + 1, steps, "denoising", -1});
        }
        if (input.prompt == "fail") throw ModelError("the fake generator was asked to fail");
        AudioBuffer a;
        a.sampleRate = input.parameters.value("sample_rate", 16000);
        a.channels = 1;
        const double seconds = input.parameters.value("duration", 1.0);
        a.samples.resize(static_cast<size_t>(seconds * a.sampleRate));
        for (size_t i = 0; i < a.samples.size(); ++i)
            a.samples[i] = 0.5f * static_cast<float>(std::sin(2 * M_PI * 440.0 * i / a.sampleRate));
        TaskResult r;
        r.audio = a;
        r.metrics = {{"steps", steps}};
        return r;
    }

private:
    int stepMillis_;
};

class FakeAnalyzer : public FakeServiceBase {
public:
    std::string id() const override { return "wav2vec2"; }
    TaskType taskType() const override { return TaskType::Analysis; }
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override {
        cancel.throwIfCancelled();
        TaskResult r;
        double peak = 0;
        for (float s : input.audio->samples) peak = std::max(peak, double(std::fabs(s)));
        r.data = {{"features", {{"duration", input.audio->duration()}, {"peak", peak}, {"sample_rate", input.audio->sampleRate}}},
                  {"patterns", nlohmann::json::object()}};
        return r;
    }
};

}  // namespace grym::test
