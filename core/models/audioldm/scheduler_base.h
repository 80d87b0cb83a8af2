#pragma once
// Diffusion schedulers as diffusers configures them from scheduler_config.json: DDIM and
// DPM-Solver++ (multistep). A scheduler owns the noise schedule (betas -> alphas_cumprod),
// the inference timesteps for a step count, and the update that turns a model output at
// timestep t into the sample at the next timestep.
#include <ATen/core/Generator.h>

#include <limits>
#include <nlohmann/json_fwd.hpp>
#include <torch/types.h>

#include <utility>
#include <string>
#include <vector>

namespace grym::audioldm {

enum class BetaSchedule { Linear, ScaledLinear, SquaredCosCapV2 };
enum class PredictionType { Epsilon, Sample, VPrediction };
enum class TimestepSpacing { Leading, Trailing, Linspace };
enum class SchedulerKind { Ddim, DpmSolverMultistep };  // the concrete schedulers (scheduler_factory.h)
enum class DpmSolverType { Midpoint, Heun };

// Fields shared by every scheduler's config.
struct NoiseScheduleConfig {
    int64_t numTrainTimesteps = 1000;
    double betaStart = 0.0001;
    double betaEnd = 0.02;
    BetaSchedule betaSchedule = BetaSchedule::Linear;
    std::vector<double> trainedBetas;     // overrides the schedule when non-empty
    PredictionType predictionType = PredictionType::Epsilon;
    TimestepSpacing timestepSpacing = TimestepSpacing::Leading;
    int64_t stepsOffset = 0;
    bool clipSample = false;
    double clipSampleRange = 1.0;
};

struct DdimConfig {
    NoiseScheduleConfig schedule;
    bool setAlphaToOne = true;
};

struct DpmSolverConfig {
    NoiseScheduleConfig schedule;
    int64_t solverOrder = 2;             // 1 or 2
    DpmSolverType solverType = DpmSolverType::Midpoint;
    bool lowerOrderFinal = true;
    bool eulerAtFinal = false;
    double lambdaMinClipped = -std::numeric_limits<double>::infinity();
};

class DiffusionScheduler {
public:
    virtual ~DiffusionScheduler() = default;

    virtual SchedulerKind kind() const = 0;
    virtual const char* name() const = 0;

    // Chooses the inference timesteps (descending) and resets any multistep history.
    virtual void setTimesteps(int64_t numInferenceSteps) = 0;
    const std::vector<int64_t>& timesteps() const { return timesteps_; }

    // The sample at the next timestep. `generator` feeds the noise of stochastic samplers
    // (DDIM with eta > 0); deterministic samplers ignore it.
    virtual torch::Tensor step(const torch::Tensor& modelOutput, int64_t timestep, const torch::Tensor& sample,
                               at::Generator* generator = nullptr) = 0;

    // Forward diffusion to `timestep`: sqrt(abar_t)·x0 + sqrt(1 - abar_t)·noise.
    virtual torch::Tensor addNoise(const torch::Tensor& original, const torch::Tensor& noise, int64_t timestep) const;

    // Standard deviation of the initial noise (1 for DDIM and DPM-Solver).
    double initNoiseSigma() const { return 1.0; }

    const torch::Tensor& alphasCumprod() const { return alphasCumprod_; }  // (numTrainTimesteps,) float32
    const NoiseScheduleConfig& scheduleConfig() const { return schedule_; }

protected:
    explicit DiffusionScheduler(const NoiseScheduleConfig& schedule);
    float alphaCumprod(int64_t t) const;
    // Keeps the first occurrence of each timestep, in order (large step counts can repeat one).
    static std::vector<int64_t> withoutRepeats(const std::vector<int64_t>& timesteps);
    // x0 and epsilon predictions from a model output at a timestep with cumulative alpha `abar`.
    std::pair<torch::Tensor, torch::Tensor> predictOriginalAndNoise(const torch::Tensor& modelOutput,
                                                                    const torch::Tensor& sample, float abar) const;

    NoiseScheduleConfig schedule_;
    torch::Tensor alphasCumprod_;
    std::vector<float> alphasCumprodValues_;
    std::vector<int64_t> timesteps_;
};

// numpy.linspace(start, stop, count) rounded half-to-even like numpy.round, as int64.
std::vector<int64_t> roundedLinspace(double start, double stop, int64_t count);

// Parsing (throws ModelError naming the field for unsupported values).
NoiseScheduleConfig parseNoiseScheduleConfig(const nlohmann::json& j, const std::string& source);
DdimConfig parseDdimConfig(const nlohmann::json& j, const std::string& source);
DpmSolverConfig parseDpmSolverConfig(const nlohmann::json& j, const std::string& source);

}  // namespace grym::audioldm
