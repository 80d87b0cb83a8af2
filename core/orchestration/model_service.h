#pragma once
// The interface every model service implements (wav2vec2 analysis, AudioLDM generation,
// and the test doubles in tests/). Services are driven by the TaskQueue's workers; they
// never talk to the UI.
#include "audio/audio_buffer.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <exception>
#include <functional>
#include <optional>
#include <string>

namespace grym {

enum class ServiceStatus { Unloaded, Loading, Ready, Busy, Failed };
enum class ComputeDevice { Cpu, Cuda };
enum class Precision { Fp32, Fp16, Bf16, Int8, Int4 };
enum class TaskType { Analysis, Generation };
// Heavy work (a diffusion run) gets a device to itself; light work may run beside it.
enum class ComputeIntensity { Light, Heavy };

const char* toString(ServiceStatus s);
const char* toString(ComputeDevice d);
const char* toString(Precision p);
const char* toString(TaskType t);

// What a task carries into a service.
struct TaskInput {
    std::optional<AudioBuffer> audio;  // analysis input, or the clip a variation starts from
    std::string prompt;                // generation prompt
    nlohmann::json parameters = nlohmann::json::object();  // steps, guidance, seed, duration, ...
};

// What a service gives back: audio (generation) and/or structured data (analysis
// features/patterns, metrics).
struct TaskResult {
    std::optional<AudioBuffer> audio;
    nlohmann::json data = nlohmann::json::object();
    nlohmann::json metrics = nlohmann::json::object();
};

struct ProgressUpdate {
    double fraction = 0.0;          // 0..1 over the whole task
    int step = 0;                   // current step (diffusion step, analysis window), 0 if n/a
    int totalSteps = 0;
    std::string stage;              // "loading", "encoding", "denoising", "decoding", ...
    double secondsRemaining = -1;   // estimate, -1 when unknown
};
using ProgressCallback = std::function<void(const ProgressUpdate&)>;

// A cancelled task: thrown by a service when it sees its token cancelled (throwIfCancelled),
// and stored in the task's future by the TaskQueue. Not a grym::Error: code that turns
// failures into messages lets a cancellation pass.
class TaskCancelled : public std::exception {
public:
    TaskCancelled() = default;
    explicit TaskCancelled(std::string message) : message_(std::move(message)) {}
    const char* what() const noexcept override { return message_.c_str(); }

private:
    std::string message_ = "the task was cancelled";
};

// Cooperative cancellation: services call throwIfCancelled() between steps.
class CancellationToken {
public:
    void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
    bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }
    void throwIfCancelled() const {
        if (cancelled()) throw TaskCancelled();
    }

private:
    std::atomic<bool> cancelled_{false};
};

struct ServiceInfo {
    std::string id;
    ServiceStatus status = ServiceStatus::Unloaded;
    std::string statusMessage;       // the reason when Failed
    ComputeDevice device = ComputeDevice::Cpu;
    Precision precision = Precision::Fp32;
    double loadSeconds = 0.0;        // time the last load took
    uint64_t estimatedMemoryBytes = 0;
    std::string modelPath;
};

// What a service accepts as audio input (for the ServiceBridge's hand-off checks).
struct InputRequirements {
    bool needsAudio = false;
    int sampleRate = 0;               // the rate the model expects; 0 when any rate is accepted
    int maxChannels = 0;              // 0 when any channel count is accepted
    double minDurationSeconds = 0.0;
    double maxDurationSeconds = 0.0;  // 0 when unlimited
};

// What one task will cost on a service, from the model's config and the task's input
// (audio length, requested duration, diffusion steps).
struct TaskCostEstimate {
    uint64_t workingMemoryBytes = 0;  // activations and buffers, beyond the loaded weights
    double computeSeconds = -1.0;     // -1 when the service cannot tell
    ComputeIntensity intensity = ComputeIntensity::Light;
};

class ModelService {
public:
    virtual ~ModelService() = default;

    virtual std::string id() const = 0;  // "wav2vec2", "audioldm"
    virtual TaskType taskType() const = 0;
    virtual ServiceInfo info() const = 0;
    // Memory the loaded model needs (weights + working set), known before loading.
    virtual uint64_t estimatedMemoryBytes() const = 0;

    // Load and unload may be slow; they throw grym::Error subclasses with a readable message.
    virtual void load() = 0;
    virtual void unload() = 0;
    bool isReady() const { return info().status == ServiceStatus::Ready; }

    // Optional: services override these with what their config knows. The defaults accept any
    // input, estimate working memory from the input audio, and call generation heavy.
    virtual InputRequirements inputRequirements() const { return {}; }
    virtual TaskCostEstimate estimateCost(const TaskInput& input) const;

    // Runs one task on the calling (worker) thread. Polls `cancel` between steps and throws
    // TaskCancelled; throws grym::Error subclasses for failures.
    virtual TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) = 0;
};

}  // namespace grym
