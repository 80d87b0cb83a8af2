#include "models/audioldm/scheduler_base.h"

#include "common/json_reader.h"

#include <torch/torch.h>

#include <cfenv>
#include <cmath>
#include <set>

namespace grym::audioldm {

namespace {

torch::Tensor makeBetas(const NoiseScheduleConfig& c) {
    const auto n = c.numTrainTimesteps;
    if (!c.trainedBetas.empty()) return torch::tensor(c.trainedBetas, torch::kFloat64).to(torch::kFloat32);
    if (c.betaSchedule == BetaSchedule::Linear) return torch::linspace(c.betaStart, c.betaEnd, n, torch::kFloat32);
    if (c.betaSchedule == BetaSchedule::ScaledLinear)
        return torch::linspace(std::sqrt(c.betaStart), std::sqrt(c.betaEnd), n, torch::kFloat32).pow(2);
    // squaredcos_cap_v2: the cosine schedule of Nichol & Dhariwal, each beta capped at 0.999
    auto alphaBar = [](double t) {
        const double c = std::cos((t + 0.008) / 1.008 * M_PI / 2);
        return c * c;
    };
    std::vector<double> betas;
    for (int64_t i = 0; i < n; ++i) {
        const double t1 = static_cast<double>(i) / n, t2 = static_cast<double>(i + 1) / n;
        betas.push_back(std::min(1.0 - alphaBar(t2) / alphaBar(t1), 0.999));
    }
    return torch::tensor(betas, torch::kFloat64).to(torch::kFloat32);
}

// numpy rounds half to even; nearbyint does too under the default rounding mode.
int64_t roundHalfEven(double x) {
    return static_cast<int64_t>(std::nearbyint(x));
}

}  // namespace

std::vector<int64_t> roundedLinspace(double start, double stop, int64_t count) {
    std::vector<int64_t> out;
    if (count <= 0) return out;
    if (count == 1) return {roundHalfEven(start)};
    const double step = (stop - start) / static_cast<double>(count - 1);
    for (int64_t i = 0; i < count - 1; ++i) out.push_back(roundHalfEven(start + static_cast<double>(i) * step));
    out.push_back(roundHalfEven(stop));  // numpy sets the end point exactly
    return out;
}

DiffusionScheduler::DiffusionScheduler(const NoiseScheduleConfig& schedule) : schedule_(schedule) {
    auto alphas = 1.0 - makeBetas(schedule);
    alphasCumprod_ = torch::cumprod(alphas, 0).contiguous();
    const float* p = alphasCumprod_.data_ptr<float>();
    alphasCumprodValues_.assign(p, p + alphasCumprod_.numel());
}

float DiffusionScheduler::alphaCumprod(int64_t t) const {
    if (t < 0 || t >= static_cast<int64_t>(alphasCumprodValues_.size()))
        throw ModelError("scheduler: timestep " + std::to_string(t) + " is outside the trained range 0.." +
                         std::to_string(alphasCumprodValues_.size() - 1));
    return alphasCumprodValues_[static_cast<size_t>(t)];
}

std::vector<int64_t> DiffusionScheduler::withoutRepeats(const std::vector<int64_t>& timesteps) {
    std::vector<int64_t> out;
    std::set<int64_t> seen;
    for (auto t : timesteps)
        if (seen.insert(t).second) out.push_back(t);
    return out;
}

std::pair<torch::Tensor, torch::Tensor> DiffusionScheduler::predictOriginalAndNoise(const torch::Tensor& modelOutput,
                                                                                    const torch::Tensor& sample,
                                                                                    float abar) const {
    const float sqrtAbar = std::sqrt(abar), sqrtBeta = std::sqrt(1.0f - abar);
    switch (schedule_.predictionType) {
        case PredictionType::Epsilon:
            return {(sample - sqrtBeta * modelOutput) / sqrtAbar, modelOutput};
        case PredictionType::Sample:
            return {modelOutput, (sample - sqrtAbar * modelOutput) / sqrtBeta};
        case PredictionType::VPrediction:
            return {sqrtAbar * sample - sqrtBeta * modelOutput, sqrtAbar * modelOutput + sqrtBeta * sample};
    }
    throw ModelError("scheduler: unknown prediction type");
}

torch::Tensor DiffusionScheduler::addNoise(const torch::Tensor& original, const torch::Tensor& noise,
                                           int64_t timestep) const {
    const float abar = alphaCumprod(timestep);
    return std::sqrt(abar) * original + std::sqrt(1.0f - abar) * noise;
}

NoiseScheduleConfig parseNoiseScheduleConfig(const nlohmann::json& j, const std::string& source) {
    const JsonReader f(j, source);
    NoiseScheduleConfig c;
    c.numTrainTimesteps = f.integer("num_train_timesteps", c.numTrainTimesteps);
    c.betaStart = f.number("beta_start", c.betaStart);
    c.betaEnd = f.number("beta_end", c.betaEnd);
    c.betaSchedule = f.choice<BetaSchedule>("beta_schedule",
                                            {{"linear", BetaSchedule::Linear},
                                             {"scaled_linear", BetaSchedule::ScaledLinear},
                                             {"squaredcos_cap_v2", BetaSchedule::SquaredCosCapV2}},
                                            c.betaSchedule);
    c.trainedBetas = f.numbers("trained_betas", {});
    c.stepsOffset = f.integer("steps_offset", c.stepsOffset);
    c.clipSample = f.boolean("clip_sample", c.clipSample);
    c.clipSampleRange = f.number("clip_sample_range", c.clipSampleRange);

    if (c.numTrainTimesteps <= 1) f.reject("num_train_timesteps", "needs at least 2");
    if (!c.trainedBetas.empty() && static_cast<int64_t>(c.trainedBetas.size()) != c.numTrainTimesteps)
        f.reject("trained_betas", "has " + std::to_string(c.trainedBetas.size()) +
                                      " values; needs num_train_timesteps values");

    c.predictionType = f.choice<PredictionType>("prediction_type",
                                                {{"epsilon", PredictionType::Epsilon},
                                                 {"v_prediction", PredictionType::VPrediction},
                                                 {"sample", PredictionType::Sample}},
                                                PredictionType::Epsilon);
    c.timestepSpacing = f.choice<TimestepSpacing>("timestep_spacing",
                                                  {{"leading", TimestepSpacing::Leading},
                                                   {"trailing", TimestepSpacing::Trailing},
                                                   {"linspace", TimestepSpacing::Linspace}},
                                                  TimestepSpacing::Leading);
    if (f.boolean("thresholding", false)) f.reject("thresholding", "dynamic thresholding is not implemented");
    if (f.boolean("rescale_betas_zero_snr", false))
        f.reject("rescale_betas_zero_snr", "zero-SNR rescaling is not implemented");
    return c;
}

DdimConfig parseDdimConfig(const nlohmann::json& j, const std::string& source) {
    DdimConfig c;
    c.schedule = parseNoiseScheduleConfig(j, source);
    c.setAlphaToOne = JsonReader(j, source).boolean("set_alpha_to_one", c.setAlphaToOne);
    return c;
}

DpmSolverConfig parseDpmSolverConfig(const nlohmann::json& j, const std::string& source) {
    // Refuses a config that is not an object (a bare number or list) before it is indexed below;
    // found by tests/fuzz/model_config_fuzz.cpp, which got nlohmann's type error instead.
    (void)JsonReader(j, source);
    nlohmann::json withDefaults = j;
    // DPM-Solver's own default spacing differs from DDIM's.
    if (!withDefaults.contains("timestep_spacing") || withDefaults["timestep_spacing"].is_null())
        withDefaults["timestep_spacing"] = "linspace";
    const JsonReader f(withDefaults, source);
    DpmSolverConfig c;
    c.schedule = parseNoiseScheduleConfig(withDefaults, source);
    c.solverOrder = f.integer("solver_order", c.solverOrder);
    c.solverType = f.choice<DpmSolverType>(
        "solver_type", {{"midpoint", DpmSolverType::Midpoint}, {"heun", DpmSolverType::Heun}}, c.solverType);
    c.lowerOrderFinal = f.boolean("lower_order_final", c.lowerOrderFinal);
    c.eulerAtFinal = f.boolean("euler_at_final", c.eulerAtFinal);
    c.lambdaMinClipped = f.number("lambda_min_clipped", c.lambdaMinClipped);

    f.requireOneOf("algorithm_type", {"dpmsolver++"});
    if (c.solverOrder != 1 && c.solverOrder != 2) f.reject("solver_order", "not supported (supported: 1, 2)");
    if (f.boolean("use_karras_sigmas", false)) f.reject("use_karras_sigmas", "not implemented");
    if (f.boolean("use_lu_lambdas", false)) f.reject("use_lu_lambdas", "not implemented");
    if (!f.string("variance_type", "").empty()) f.reject("variance_type", "learned variance is not implemented");
    f.requireOneOf("final_sigmas_type", {"sigma_min"});
    return c;
}

}  // namespace grym::audioldm
