#include "models/audioldm/scheduler_dpm.h"

#include "common/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace grym::audioldm {

namespace {

// A noise level sigma (= sqrt((1 - abar) / abar)) as the pair (alpha_t, sigma_t) of the
// variance-preserving process, and its half log-SNR lambda = log(alpha_t / sigma_t).
struct NoiseLevel {
    float alpha, sigma, lambda;
    explicit NoiseLevel(float s) {
        alpha = 1.0f / std::sqrt(s * s + 1.0f);
        sigma = s * alpha;
        lambda = std::log(alpha) - std::log(sigma);
    }
};

}  // namespace

DpmSolverMultistepScheduler::DpmSolverMultistepScheduler(const DpmSolverConfig& config)
    : DiffusionScheduler(config.schedule), config_(config) {}

size_t DpmSolverMultistepScheduler::indexForTimestep(int64_t timestep) const {
    std::vector<size_t> matches;
    for (size_t i = 0; i < timesteps_.size(); ++i)
        if (timesteps_[i] == timestep) matches.push_back(i);
    // As diffusers: an unknown timestep means the last step; a repeated one, its second use.
    if (matches.empty()) return timesteps_.size() - 1;
    return matches.size() > 1 ? matches[1] : matches[0];
}

void DpmSolverMultistepScheduler::setTimesteps(int64_t steps) {
    const int64_t n = schedule_.numTrainTimesteps;
    if (steps < 1 || steps > n)
        throw ModelError("DPM-Solver++: number of steps must be between 1 and " + std::to_string(n) + ", got " +
                         std::to_string(steps));
    // Timesteps whose log-SNR falls below lambda_min_clipped are never visited.
    int64_t clipped = 0;
    for (int64_t t = n - 1; t >= 0; --t) {
        const float abar = alphasCumprodValues_[static_cast<size_t>(t)];
        const float lambda = std::log(std::sqrt(abar)) - std::log(std::sqrt(1.0f - abar));
        if (static_cast<double>(lambda) < config_.lambdaMinClipped) ++clipped;
        else break;
    }
    const int64_t last = n - clipped;

    std::vector<int64_t> ts;
    switch (schedule_.timestepSpacing) {
        case TimestepSpacing::Linspace: {
            ts = roundedLinspace(0.0, static_cast<double>(last - 1), steps + 1);
            std::reverse(ts.begin(), ts.end());
            ts.pop_back();
            break;
        }
        case TimestepSpacing::Leading: {
            const int64_t ratio = last / (steps + 1);
            for (int64_t k = steps; k >= 1; --k) ts.push_back(k * ratio + schedule_.stepsOffset);
            break;
        }
        case TimestepSpacing::Trailing: {
            const double ratio = static_cast<double>(n) / static_cast<double>(steps);
            for (int64_t k = 0; static_cast<double>(last) - static_cast<double>(k) * ratio > 0.0; ++k)
                ts.push_back(static_cast<int64_t>(std::nearbyint(last - k * ratio)) - 1);
            break;
        }
    }
    auto sigmaAt = [this](int64_t t) {
        const float abar = alphaCumprod(t);
        return std::sqrt((1.0f - abar) / abar);
    };
    sigmas_.clear();
    for (auto t : ts) sigmas_.push_back(sigmaAt(t));
    sigmas_.push_back(sigmaAt(0));  // the last step lands on the noise level of t = 0
    timesteps_ = withoutRepeats(ts);
    modelOutputs_.clear();
    lowerOrderCount_ = 0;
    stepIndex_.reset();
}

torch::Tensor DpmSolverMultistepScheduler::addNoise(const torch::Tensor& original, const torch::Tensor& noise,
                                                    int64_t timestep) const {
    if (timesteps_.empty()) return DiffusionScheduler::addNoise(original, noise, timestep);
    const NoiseLevel level(sigmas_[indexForTimestep(timestep)]);
    return level.alpha * original + level.sigma * noise;
}

torch::Tensor DpmSolverMultistepScheduler::step(const torch::Tensor& modelOutput, int64_t timestep,
                                                const torch::Tensor& sample, at::Generator*) {
    if (timesteps_.empty()) throw ModelError("DPM-Solver++: step() called before setTimesteps()");
    const size_t count = timesteps_.size();
    if (!stepIndex_) stepIndex_ = indexForTimestep(timestep);
    const size_t i = *stepIndex_;
    if (i + 1 >= sigmas_.size()) throw ModelError("DPM-Solver++: more steps than timesteps were set");

    const bool fewSteps = count < 15;
    // Few-step runs finish with a first-order step, which is more stable there.
    const bool finalStep = i == count - 1 && (config_.eulerAtFinal || (config_.lowerOrderFinal && fewSteps));

    // The solver works on data (x0) predictions.
    const NoiseLevel current(sigmas_[i]);
    torch::Tensor x0;
    switch (schedule_.predictionType) {
        case PredictionType::Epsilon: x0 = (sample - current.sigma * modelOutput) / current.alpha; break;
        case PredictionType::Sample: x0 = modelOutput; break;
        case PredictionType::VPrediction: x0 = current.alpha * sample - current.sigma * modelOutput; break;
    }
    modelOutputs_.push_back(x0);
    if (static_cast<int64_t>(modelOutputs_.size()) > config_.solverOrder) modelOutputs_.erase(modelOutputs_.begin());

    const NoiseLevel target(sigmas_[i + 1]);
    const float h = target.lambda - current.lambda;
    const float expm1 = std::exp(-h) - 1.0f;
    torch::Tensor prev;
    if (config_.solverOrder == 1 || lowerOrderCount_ < 1 || finalStep) {
        // first order: DDIM in the log-SNR parametrisation
        prev = (target.sigma / current.sigma) * sample - (target.alpha * expm1) * x0;
    } else {
        const NoiseLevel previous(sigmas_[i - 1]);
        const auto& d0 = modelOutputs_.back();
        const auto& m1 = modelOutputs_[modelOutputs_.size() - 2];
        const float r0 = (current.lambda - previous.lambda) / h;
        auto d1 = (1.0f / r0) * (d0 - m1);
        prev = (target.sigma / current.sigma) * sample - (target.alpha * expm1) * d0;
        if (config_.solverType == DpmSolverType::Midpoint) prev = prev - (0.5f * target.alpha * expm1) * d1;
        else prev = prev - (target.alpha * (expm1 / h + 1.0f)) * d1;
    }
    if (lowerOrderCount_ < config_.solverOrder) ++lowerOrderCount_;
    stepIndex_ = i + 1;
    return prev;
}

}  // namespace grym::audioldm
