#pragma once
// Test doubles for the orchestration tests (they live here, never in core/).
#include "orchestration/model_service.h"
#include "orchestration/task_queue.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
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

// A configurable service: runs `steps` steps, reporting progress and checking cancellation.
class FakeService : public ModelService {
public:
    FakeService(std::string id, TaskType type, uint64_t memoryBytes = 1000)
        : id_(std::move(id)), type_(type), memory_(memoryBytes) {}

    std::string id() const override { return id_; }
    TaskType taskType() const override { return type_; }
    ServiceInfo info() const override {
        std::lock_guard<std::mutex> lock(mutex_);
        ServiceInfo i;
        i.id = id_;
        i.status = status_;
        i.statusMessage = message_;
        i.precision = precision;
        i.estimatedMemoryBytes = memory_;
        return i;
    }
    uint64_t estimatedMemoryBytes() const override { return memory_; }
    void load() override {
        std::lock_guard<std::mutex> lock(mutex_);
        if (failLoad) {
            status_ = ServiceStatus::Failed;
            message_ = "weights missing";
            throw ModelError(id_ + ": weights missing");
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
    Gate* gate = nullptr;
    bool failLoad = false;
    Precision precision = Precision::Fp32;

private:
    std::string id_;
    TaskType type_;
    uint64_t memory_;
    mutable std::mutex mutex_;
    ServiceStatus status_ = ServiceStatus::Unloaded;
    std::string message_;
};

}  // namespace grym::test
