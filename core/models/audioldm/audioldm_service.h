#pragma once
// The "audioldm" ModelService: text-to-audio (and audio-to-audio variation) generation with an
// AudioLdmPipeline, driven by the TaskQueue's workers.
#include "orchestration/model_service.h"

#include <memory>
#include <mutex>
#include <string>

namespace grym::audioldm {

class AudioLdmPipeline;

struct AudioLdmServiceOptions {
    std::string modelPath;  // diffusers AudioLDM folder
    ComputeDevice device = ComputeDevice::Cpu;
    Precision precision = Precision::Fp32;
};

class AudioLdmService final : public ModelService {
public:
    explicit AudioLdmService(AudioLdmServiceOptions options);
    ~AudioLdmService() override;

    std::string id() const override { return "audioldm"; }
    TaskType taskType() const override { return TaskType::Generation; }
    ServiceInfo info() const override;
    uint64_t estimatedMemoryBytes() const override;

    void load() override;
    void unload() override;

    // parameters (all optional): steps, guidance, seed, duration, negative_prompt, scheduler
    // ("ddim" | "dpm++"), eta, strength (with input.audio), sample_rate. Returns mono audio at
    // the vocoder's rate (or sample_rate), data {seed, steps, scheduler, duration, random_weights}
    // and metrics {generation_seconds, realtime_factor}.
    TaskResult run(const TaskInput& input, const ProgressCallback& progress, const CancellationToken& cancel) override;

private:
    void setStatus(ServiceStatus status, const std::string& message = {});

    AudioLdmServiceOptions options_;
    mutable std::mutex mutex_;  // guards info_ and pipeline_ swaps
    ServiceInfo info_;
    std::shared_ptr<AudioLdmPipeline> pipeline_;
    mutable std::mutex estimateMutex_;
    mutable uint64_t estimatedBytes_ = 0;
};

}  // namespace grym::audioldm
