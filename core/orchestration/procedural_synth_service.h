#pragma once
// ProceduralSynthService: a real, model-free generation workload for the orchestration layer
// and the performance suite while the neural services are not available. It is NOT AudioLDM
// and says so in its results: it renders audio by additive synthesis from a wavetable bank,
// with partials chosen from the prompt's words, refined over `steps` passes from seeded noise.
//
// Parameters: duration (seconds, default 5), steps (default 20), seed (default 0).
#include "orchestration/model_service.h"

#include <mutex>
#include <vector>

namespace grym {

class ProceduralSynthService : public ModelService {
public:
    static constexpr int kSampleRate = 16000;
    static constexpr double kMaxDurationSeconds = 60.0;

    std::string id() const override { return "procedural-synth"; }
    TaskType taskType() const override { return TaskType::Generation; }
    ServiceInfo info() const override;
    uint64_t estimatedMemoryBytes() const override;
    void load() override;
    void unload() override;
    TaskCostEstimate estimateCost(const TaskInput& input) const override;
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override;

private:
    static constexpr int kTables = 64;
    static constexpr int kTableSize = 4096;

    mutable std::mutex mutex_;
    ServiceStatus status_ = ServiceStatus::Unloaded;
    double loadSeconds_ = 0.0;
    // kTables band-limited waveforms, table t holding harmonics 1..(t+1) with 1/h amplitudes.
    std::vector<float> wavetables_;
};

}  // namespace grym
