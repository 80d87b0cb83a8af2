#pragma once
// DPM-Solver++ multistep (Lu et al.), data-prediction form, order 1 or 2.
#include "models/audioldm/scheduler_base.h"

#include <optional>

namespace grym::audioldm {

class DpmSolverMultistepScheduler final : public DiffusionScheduler {
public:
    explicit DpmSolverMultistepScheduler(const DpmSolverConfig& config);
    SchedulerKind kind() const override { return SchedulerKind::DpmSolverMultistep; }
    const char* name() const override { return "DPM-Solver++"; }
    void setTimesteps(int64_t numInferenceSteps) override;
    torch::Tensor step(const torch::Tensor& modelOutput, int64_t timestep, const torch::Tensor& sample,
                       at::Generator* generator = nullptr) override;
    // As diffusers does, the noise level is looked up in the current schedule: a timestep
    // outside it gets the noise level of the schedule's last step. Before setTimesteps() every
    // trained timestep is in the schedule.
    torch::Tensor addNoise(const torch::Tensor& original, const torch::Tensor& noise,
                           int64_t timestep) const override;

private:
    size_t indexForTimestep(int64_t timestep) const;

    DpmSolverConfig config_;
    std::vector<float> sigmas_;                 // per inference step, plus the final one
    std::vector<torch::Tensor> modelOutputs_;   // x0 predictions, oldest first (at most solverOrder)
    int64_t lowerOrderCount_ = 0;
    std::optional<size_t> stepIndex_;
};

}  // namespace grym::audioldm
