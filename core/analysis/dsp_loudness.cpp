#include "analysis/dsp_loudness.h"

#include "common/math_constants.h"
#include "common/error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

namespace grym::dsp {
namespace {

constexpr double kAbsoluteGateLufs = -70.0;
constexpr double kRelativeGateLu = -10.0;
constexpr double kLufsOffset = -0.691;  // BS.1770's calibration constant

double meanSquareToLufs(double meanSquare) {
    return meanSquare > 0 ? kLufsOffset + 10.0 * std::log10(meanSquare) : -std::numeric_limits<double>::infinity();
}

}  // namespace

std::array<Biquad, 2> kWeightingFilters(int sampleRate) {
    if (sampleRate <= 0) throw AudioError("loudness: sample rate " + std::to_string(sampleRate) + " is not positive");
    // Analog prototype of BS.1770's pre-filter (a +4 dB high shelf near 1.7 kHz) and
    // RLB high pass (near 38 Hz); these parameter values reproduce the 48 kHz table.
    const double shelfFrequency = 1681.974450955533, shelfGainDb = 3.999843853973347, shelfQ = 0.7071752369554196;
    const double highPassFrequency = 38.13547087602444, highPassQ = 0.5003270373238773;

    std::array<Biquad, 2> stages;
    {
        const double k = std::tan(kPi * shelfFrequency / sampleRate);
        const double vh = std::pow(10.0, shelfGainDb / 20.0);
        const double vb = std::pow(vh, 0.4996667741545416);
        const double a0 = 1.0 + k / shelfQ + k * k;
        stages[0].b = {(vh + vb * k / shelfQ + k * k) / a0, 2.0 * (k * k - vh) / a0, (vh - vb * k / shelfQ + k * k) / a0};
        stages[0].a = {2.0 * (k * k - 1.0) / a0, (1.0 - k / shelfQ + k * k) / a0};
    }
    {
        const double k = std::tan(kPi * highPassFrequency / sampleRate);
        const double a0 = 1.0 + k / highPassQ + k * k;
        stages[1].b = {1.0, -2.0, 1.0};
        stages[1].a = {2.0 * (k * k - 1.0) / a0, (1.0 - k / highPassQ + k * k) / a0};
    }
    return stages;
}

LoudnessMeter::LoudnessMeter(int sampleRate)
    : stages_(kWeightingFilters(sampleRate)),
      blockLength_(static_cast<size_t>(std::llround(0.4 * sampleRate))),
      step_(static_cast<size_t>(std::llround(0.1 * sampleRate))) {
    if (blockLength_ == 0 || step_ == 0) throw AudioError("loudness: sample rate " + std::to_string(sampleRate) + " is too low");
}

void LoudnessMeter::add(const float* samples, size_t count) {
    for (size_t n = 0; n < count; ++n) {
        double v = samples[n];
        for (int s = 0; s < 2; ++s) {
            const Biquad& f = stages_[s];
            const double y = f.b[0] * v + f.b[1] * x1_[s] + f.b[2] * x2_[s] - f.a[0] * y1_[s] - f.a[1] * y2_[s];
            x2_[s] = x1_[s];
            x1_[s] = v;
            y2_[s] = y1_[s];
            y1_[s] = y;
            v = y;
        }
        pendingEnergy_.push_back(v * v);
        if (pendingEnergy_.size() == blockLength_) {
            double energy = 0;
            for (double e : pendingEnergy_) energy += e;
            blockPower_.push_back(energy / static_cast<double>(blockLength_));
            // The next block starts one step later (blocks overlap by 75 %).
            for (size_t i = 0; i < step_ && !pendingEnergy_.empty(); ++i) pendingEnergy_.pop_front();
        }
    }
}

LoudnessResult LoudnessMeter::result() const {
    LoudnessResult result{-std::numeric_limits<double>::infinity(), static_cast<int>(blockPower_.size()), 0};
    auto gatedMean = [&](double gateLufs, int* count) {
        double sum = 0;
        int n = 0;
        for (double p : blockPower_)
            if (meanSquareToLufs(p) > gateLufs) {
                sum += p;
                ++n;
            }
        if (count) *count = n;
        return n > 0 ? sum / n : 0.0;
    };
    int aboveAbsolute = 0;
    const double absoluteMean = gatedMean(kAbsoluteGateLufs, &aboveAbsolute);
    if (aboveAbsolute == 0) return result;
    const double relativeGate = meanSquareToLufs(absoluteMean) + kRelativeGateLu;
    const double finalMean = gatedMean(std::max(kAbsoluteGateLufs, relativeGate), &result.gatedBlocks);
    result.integratedLufs = meanSquareToLufs(finalMean);
    return result;
}

LoudnessResult integratedLoudness(const std::vector<float>& mono, int sampleRate) {
    LoudnessMeter meter(sampleRate);
    meter.add(mono.data(), mono.size());
    return meter.result();
}

}  // namespace grym::dsp
