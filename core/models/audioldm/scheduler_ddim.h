#pragma once
// DDIM (Song et al.): deterministic for eta = 0, adds fresh noise scaled by eta otherwise.
#include "models/audioldm/scheduler_base.h"

namespace grym::audioldm {

class DdimScheduler final : public DiffusionScheduler {
public:
    explicit DdimScheduler(const DdimConfig& config, double eta = 0.0);
    SchedulerKind kind() const override { return SchedulerKind::Ddim; }
    const char* name() const override { return "DDIM"; }
    void setTimesteps(int64_t numInferenceSteps) override;
    torch::Tensor step(const torch::Tensor& modelOutput, int64_t timestep, const torch::Tensor& sample,
                       at::Generator* generator = nullptr) override;
    double eta() const { return eta_; }

private:
    DdimConfig config_;
    double eta_;
    float finalAlphaCumprod_;
    int64_t numInferenceSteps_ = 0;
};

}  // namespace grym::audioldm
