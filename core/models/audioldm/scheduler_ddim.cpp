#include "models/audioldm/scheduler_ddim.h"

#include "common/error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace grym::audioldm {

DdimScheduler::DdimScheduler(const DdimConfig& config, double eta)
    : DiffusionScheduler(config.schedule), config_(config), eta_(eta) {
    if (!(eta >= 0.0)) throw ModelError("DDIM: eta must be 0 or more, got " + std::to_string(eta));
    // The cumulative alpha "before" the first trained timestep: 1 (fully clean) or that of t = 0.
    finalAlphaCumprod_ = config.setAlphaToOne ? 1.0f : alphasCumprodValues_.front();
}

void DdimScheduler::setTimesteps(int64_t steps) {
    const int64_t n = schedule_.numTrainTimesteps;
    if (steps < 1 || steps > n)
        throw ModelError("DDIM: number of steps must be between 1 and " + std::to_string(n) + ", got " +
                         std::to_string(steps));
    numInferenceSteps_ = steps;
    timesteps_.clear();
    switch (schedule_.timestepSpacing) {
        case TimestepSpacing::Leading: {
            const int64_t ratio = n / steps;
            for (int64_t k = steps - 1; k >= 0; --k) timesteps_.push_back(k * ratio + schedule_.stepsOffset);
            break;
        }
        case TimestepSpacing::Trailing: {
            const double ratio = static_cast<double>(n) / static_cast<double>(steps);
            for (int64_t k = 0; static_cast<double>(n) - static_cast<double>(k) * ratio > 0.0; ++k)
                timesteps_.push_back(static_cast<int64_t>(std::nearbyint(n - k * ratio)) - 1);
            break;
        }
        case TimestepSpacing::Linspace: {
            timesteps_ = roundedLinspace(0.0, static_cast<double>(n - 1), steps);
            std::reverse(timesteps_.begin(), timesteps_.end());
            break;
        }
    }
}

torch::Tensor DdimScheduler::step(const torch::Tensor& modelOutput, int64_t timestep, const torch::Tensor& sample,
                                  at::Generator* generator) {
    if (numInferenceSteps_ == 0) throw ModelError("DDIM: step() called before setTimesteps()");
    const int64_t prevTimestep = timestep - schedule_.numTrainTimesteps / numInferenceSteps_;
    const float abarT = alphaCumprod(timestep);
    const float abarPrev = prevTimestep >= 0 ? alphaCumprod(prevTimestep) : finalAlphaCumprod_;
    const float betaT = 1.0f - abarT, betaPrev = 1.0f - abarPrev;

    auto [predOriginal, predEpsilon] = predictOriginalAndNoise(modelOutput, sample, abarT);
    if (schedule_.clipSample) {
        const double r = schedule_.clipSampleRange;
        predOriginal = predOriginal.clamp(-r, r);
        // the noise that the clipped x0 implies
        predEpsilon = (sample - std::sqrt(abarT) * predOriginal) / std::sqrt(betaT);
    }

    // sigma_t of the DDIM paper (eq. 16), scaled by eta
    const float variance = (betaPrev / betaT) * (1.0f - abarT / abarPrev);
    const float stdDev = static_cast<float>(eta_) * std::sqrt(variance);
    const float directionScale = std::sqrt(std::max(0.0f, 1.0f - abarPrev - stdDev * stdDev));
    auto prevSample = std::sqrt(abarPrev) * predOriginal + directionScale * predEpsilon;
    if (eta_ > 0.0) {
        auto noise = generator ? torch::randn(sample.sizes(), *generator, sample.options())
                               : torch::randn(sample.sizes(), sample.options());
        prevSample = prevSample + stdDev * noise;
    }
    return prevSample;
}

}  // namespace grym::audioldm
